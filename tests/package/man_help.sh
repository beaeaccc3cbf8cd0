#!/bin/sh
# Checks that `gemgate --help` and the man page gemgate(1) agree: both come from
# conf/cli/manual.txt, and this proves the build really used it for both. Every line group of
# --help (the usage, each paragraph, each option or variable with its definition) must appear
# word for word in the rendered page, and every --help heading must be a section of the page.
# The page must render without a groff warning.
#
#   sh tests/package/man_help.sh GEMGATE_BINARY GEMGATE_1
set -eu
bin=$1
page=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/man-help.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

"$bin" --help >"$work/help.txt"
# No hyphenation (-rHY=0) and no bold/underline escapes (-P-cbou): plain words to compare.
groff -man -Tascii -P-cbou -rHY=0 -ww "$page" >"$work/man.txt" 2>"$work/warnings.txt"
if [ -s "$work/warnings.txt" ]; then
  cat "$work/warnings.txt"; echo "man_help: groff warns about $page"; exit 1
fi
# The page as one line of single-spaced words.
tr -s ' \t\n' '   ' <"$work/man.txt" >"$work/man.flat"

# --help as items, one per line, single-spaced: the usage, each paragraph, each heading
# (prefixed "#"), each entry (a line indented by 2 and the deeper-indented lines after it).
awk '
  function flush() { if (item != "") print item; item = "" }
  /^$/ { flush(); next }
  /^Usage: / { flush(); sub(/^Usage: /, ""); item = $0; next }
  /^[^ ].*:$/ { flush(); print "#" $0; next }
  /^  [^ ]/ { flush(); item = $0; next }
  { item = item " " $0 }
  END { flush() }
' "$work/help.txt" | tr -s ' \t' '  ' | sed 's/^ //; s/ $//' >"$work/items.txt"

count=0
failed=0
while IFS= read -r item; do
  count=$((count + 1))
  case $item in
  "#"*)
    heading=$(printf '%s' "${item#\#}" | sed 's/:$//' | tr '[:lower:]' '[:upper:]')
    if ! grep -q "^$heading\$" "$work/man.txt"; then
      echo "man_help: --help has the heading '${item#\#}', the man page no section $heading"
      failed=$((failed + 1))
    fi
    ;;
  *)
    if ! grep -qF -- "$item" "$work/man.flat"; then
      echo "man_help: in --help but not in the man page: $item"
      failed=$((failed + 1))
    fi
    ;;
  esac
done <"$work/items.txt"

[ "$count" -ge 10 ] || { echo "man_help: only $count items in --help; is it empty?"; exit 1; }
if [ "$failed" -ne 0 ]; then
  echo "man_help: $failed of $count items of --help disagree with $page"; exit 1
fi
echo "man_help: all $count items of --help appear in $page"
