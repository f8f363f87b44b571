#!/bin/sh
# Files compiled with ISA extensions (src/kernels/x86/<isa>/) must not define weak or unique
# symbols: an inline function or template instantiated there (a std::vector member, say) is
# emitted as a weak definition, and the linker may keep that AVX-512 copy for every caller,
# baseline code included, which then dies with SIGILL on a CPU without AVX-512. (The reference
# to the C++ exception personality routine is data, not code, and allowed.)
# Usage: isa_symbols.sh <dir with the object files of src/kernels/x86>
set -eu
dir=$1
found=0
objs=$(find "$dir" -name '*.o' | sort)
[ -n "$objs" ] || { echo "no object files under $dir"; exit 1; }
for o in $objs; do
  bad=$(nm -C --defined-only "$o" | awk '$2 ~ /^[WVu]$/ && $3 != "DW.ref.__gxx_personality_v0"')
  if [ -n "$bad" ]; then
    echo "$o defines weak symbols:"
    echo "$bad"
    found=1
  fi
done
[ $found -eq 0 ] && echo "$(echo "$objs" | wc -l) ISA object files, no weak symbols"
exit $found
