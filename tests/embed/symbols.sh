#!/bin/sh
# libgemgate.so's exported surface: only gemgate_* functions (and the version node), the soname
# libgemgate.so.1, no C++ symbol of ours (namespace gemgate, mangled _ZN7gemgate...) and no
# statically linked library leaking through; the Lua module exports only luaopen_gemgate.
#
#   sh tests/embed/symbols.sh LIBGEMGATE [LUA_MODULE]
set -eu
lib=$1
lua=${2:-}
fail() { echo "symbols: $*"; exit 1; }

nm -D --defined-only "$lib" >/tmp/gemgate-symbols.$$ || fail "nm failed on $lib"
trap 'rm -f /tmp/gemgate-symbols.$$' EXIT
names=$(awk '{print $NF}' /tmp/gemgate-symbols.$$ | sed 's/@.*//' | sort -u)
n=$(echo "$names" | grep -c '^gemgate_' || true)
[ "$n" -ge 30 ] || fail "only $n gemgate_ symbols exported"
others=$(echo "$names" | grep -v '^gemgate_' | grep -v '^GEMGATE_1$' || true)
[ -z "$others" ] || fail "exported symbols outside the gemgate_ prefix:
$others"
if nm -D "$lib" | grep -q '_ZN7gemgate'; then fail "C++ symbols of namespace gemgate are visible"; fi
# Every exported function carries the version node.
if nm -D --defined-only "$lib" | grep ' T ' | grep -v '@@GEMGATE_1' | grep -q .; then
  fail "a function without the GEMGATE_1 version node"
fi
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = "libgemgate.so.1" ] || fail "soname is '$soname', not libgemgate.so.1"
# The C++ runtime is linked dynamically (allowed); a static copy would show its symbols above.
objdump -p "$lib" | grep -q 'NEEDED *libstdc++' || fail "libstdc++ is not a dynamic dependency"
echo "symbols: $n gemgate_* symbols, nothing else; soname $soname"

if [ -n "$lua" ]; then
  lnames=$(nm -D --defined-only "$lua" | awk '{print $NF}' | sort -u)
  [ "$lnames" = "luaopen_gemgate" ] || fail "the Lua module exports more than luaopen_gemgate:
$lnames"
  objdump -p "$lua" | grep -q 'NEEDED *libgemgate.so.1' || fail "the Lua module does not link libgemgate.so.1"
  if objdump -p "$lua" | grep -q 'NEEDED *liblua'; then fail "the Lua module links a liblua (the host provides it)"; fi
  echo "symbols: the Lua module exports luaopen_gemgate only and uses libgemgate.so.1"
fi
