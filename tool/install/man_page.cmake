# Makes a man page from a page of docs/, so that the man pages and docs/ never drift: go-md2man's input is a
# title line, a NAME section (what `whatis` and `apropos` read) from the page's first heading, and the page.
# cmake -DIN=docs/summary.md -DOUT=gmon-summary.1 -DNAME=gmon-summary -DVERSION=0.1.0 -DGO_MD2MAN=go-md2man
#       [-DWHATIS=...] -P man_page.cmake
file(READ "${IN}" page)
string(FIND "${page}" "\n" first_end)
string(SUBSTRING "${page}" 0 ${first_end} heading)
string(SUBSTRING "${page}" ${first_end} -1 rest)
if(NOT DEFINED WHATIS)
  # "# `gmon summary`: the goroutines of a running program" -> "the goroutines of a running program"
  string(REGEX REPLACE "^#[^:]*: *" "" WHATIS "${heading}")
endif()
string(TOUPPER "${NAME}" title)
file(WRITE "${OUT}.md" "% ${title} 1 \"\" \"gmon ${VERSION}\" \"gmon manual\"\n\n# NAME\n\n${NAME} - ${WHATIS}\n\n# DESCRIPTION\n${rest}")
execute_process(COMMAND ${GO_MD2MAN} -in ${OUT}.md -out ${OUT} RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "go-md2man could not convert ${IN}")
endif()
# go-md2man leaves a line of code that starts with a dot ("..." eliding rows of a table) as it is, and roff
# reads it as a macro: the zero-width \& before it makes it text.
file(READ "${OUT}" roff)
string(REGEX REPLACE "\n\\.([^A-Za-z\\\\])" "\n\\\\&.\\1" roff "${roff}")
file(WRITE "${OUT}" "${roff}")
