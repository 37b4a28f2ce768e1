# Turns a page of docs/ into go-md2man's input for a man page, so that the man pages and docs/ never drift:
# a title line, a NAME section (what `whatis` and `apropos` read) from the page's first heading, and the page.
# cmake -DIN=docs/summary.md -DOUT=gmon-summary.1.md -DNAME=gmon-summary -DVERSION=0.1.0 [-DWHATIS=...] -P man_page.cmake
file(READ "${IN}" page)
string(FIND "${page}" "\n" first_end)
string(SUBSTRING "${page}" 0 ${first_end} heading)
string(SUBSTRING "${page}" ${first_end} -1 rest)
if(NOT DEFINED WHATIS)
  # "# `gmon summary`: the goroutines of a running program" -> "the goroutines of a running program"
  string(REGEX REPLACE "^#[^:]*: *" "" WHATIS "${heading}")
endif()
string(TOUPPER "${NAME}" title)
file(WRITE "${OUT}" "% ${title} 1 \"\" \"gmon ${VERSION}\" \"gmon manual\"\n\n# NAME\n\n${NAME} - ${WHATIS}\n\n# DESCRIPTION\n${rest}")
