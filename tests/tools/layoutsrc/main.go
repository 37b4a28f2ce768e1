// Command layoutsrc prints the offset and size of fields of the Go runtime's structures as the gc compiler
// lays them out on linux/amd64, computed from a release's source tree with go/types. It is how the rows of
// symbolize/runtime_state_table.inc get the fields no binary with DWARF of that release was at hand for;
// tests/test_runtime_state_layout checks its answers against DWARF where DWARF exists.
//
//	layoutsrc -goroot DIR TYPE.PATH ...
//
// DIR holds src/runtime and src/internal of one release (git archive COMMIT src/runtime src/internal).
// TYPE is a type of package runtime, PATH a dotted path of fields through nested structs ("mheap.spanalloc.inuse";
// "heapStatsDelta" alone: the type's size). Each answer is a line "TYPE.PATH OFFSET SIZE", or "TYPE.PATH - -".
//
// The type checker of an older Go may not accept every construct of a newer runtime: errors are ignored, and
// struct types are laid out as long as their fields' types resolved.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// gcSizes is the gc compiler's layout on amd64 (cmd/compile/internal/types/size.go, CalcStructSize): a
// struct's size rounded up to its alignment (go/types' standard sizes before Go 1.21 do not round, and lay
// the next field too early), and a byte added after a trailing zero-size field so that a pointer to it does
// not point past the object.
type gcSizes struct{ std types.StdSizes }

func (s gcSizes) Alignof(t types.Type) int64 { return s.std.Alignof(t) }
func (s gcSizes) Offsetsof(fields []*types.Var) []int64 {
	offs := make([]int64, len(fields))
	var off int64
	for i, f := range fields {
		a := s.Alignof(f.Type())
		off = (off + a - 1) / a * a
		offs[i] = off
		off += s.Sizeof(f.Type())
	}
	return offs
}
func (s gcSizes) Sizeof(t types.Type) int64 {
	st, ok := t.Underlying().(*types.Struct)
	if !ok || st.NumFields() == 0 {
		if a, ok := t.Underlying().(*types.Array); ok {
			return a.Len() * s.Sizeof(a.Elem())
		}
		return s.std.Sizeof(t)
	}
	fields := make([]*types.Var, st.NumFields())
	for i := range fields {
		fields[i] = st.Field(i)
	}
	offs := s.Offsetsof(fields)
	last := st.NumFields() - 1
	end := offs[last] + s.Sizeof(fields[last].Type())
	if s.Sizeof(fields[last].Type()) == 0 && end > 0 {
		end++
	}
	align := s.Alignof(t)
	return (end + align - 1) / align * align
}

type importer struct {
	ctx   build.Context
	fset  *token.FileSet
	conf  *types.Config
	cache map[string]*types.Package
}

func (im *importer) Import(path string) (*types.Package, error) {
	if p, ok := im.cache[path]; ok {
		return p, nil
	}
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	bp, err := im.ctx.Import(path, "", 0)
	if err != nil && bp == nil {
		return nil, err
	}
	var files []*ast.File
	for _, name := range bp.GoFiles {
		f, _ := parser.ParseFile(im.fset, filepath.Join(bp.Dir, name), nil, 0)
		if f != nil {
			files = append(files, f)
		}
	}
	pkg, _ := im.conf.Check(path, im.fset, files, nil) // errors are ignored: see the comment at the top
	im.cache[path] = pkg
	return pkg, nil
}

// defaultExperiments are the GOEXPERIMENT build tags a release turns on by default on linux/amd64: the
// fields set true in internal/buildcfg/exp.go's baseline, and regabi's parts before 1.19 made it permanent.
func defaultExperiments(goroot string) []string {
	src, err := os.ReadFile(filepath.Join(goroot, "src/internal/buildcfg/exp.go"))
	if err != nil {
		return nil
	}
	var tags []string
	re := regexp.MustCompile(`(?m)^\s+(\w+):\s+(true|regabiSupported|regabiAlwaysOn)[,}]`)
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		tags = append(tags, "goexperiment."+strings.ToLower(m[1]))
	}
	return tags
}

func field(sizes gcSizes, t types.Type, path []string) (int64, int64, bool) {
	var off int64
	for _, name := range path {
		st, ok := t.Underlying().(*types.Struct)
		if !ok {
			return 0, 0, false
		}
		fields := make([]*types.Var, st.NumFields())
		for i := range fields {
			fields[i] = st.Field(i)
		}
		offs := sizes.Offsetsof(fields)
		found := false
		for i, f := range fields {
			if f.Name() == name {
				off += offs[i]
				t = f.Type()
				found = true
				break
			}
		}
		if !found {
			return 0, 0, false
		}
	}
	return off, sizes.Sizeof(t), true
}

func main() {
	goroot := flag.String("goroot", "", "a release's tree: DIR/src/runtime, DIR/src/internal")
	flag.Parse()
	ctx := build.Default
	ctx.GOROOT, ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled, ctx.GOPATH = *goroot, "linux", "amd64", false, ""
	ctx.Compiler = "gc"
	ctx.ToolTags = defaultExperiments(*goroot)
	sizes := gcSizes{types.StdSizes{WordSize: 8, MaxAlign: 8}}
	im := &importer{ctx: ctx, fset: token.NewFileSet(), cache: map[string]*types.Package{}}
	im.conf = &types.Config{Importer: im, Sizes: sizes, Error: func(error) {}, FakeImportC: true}
	rt, err := im.Import("runtime")
	if err != nil || rt == nil {
		fmt.Fprintln(os.Stderr, "layoutsrc:", err)
		os.Exit(1)
	}
	for _, q := range flag.Args() {
		parts := strings.Split(q, ".")
		obj := rt.Scope().Lookup(parts[0])
		if obj == nil {
			fmt.Println(q, "-", "-")
			continue
		}
		off, size, ok := field(sizes, obj.Type(), parts[1:])
		if !ok {
			fmt.Println(q, "-", "-")
			continue
		}
		fmt.Println(q, off, size)
	}
}
