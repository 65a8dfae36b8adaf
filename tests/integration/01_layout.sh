# The layout shows the architecture: a program folder (collect, ingest,
# query, legal) includes headers of its own and of lib/ only, never another
# program folder's; every .c outside tests has the .h of its name (programs
# excepted), opening with a comment that states its contract.
set -u
. tests/lib.sh
folders="collect ingest query legal"
for f in $folders; do
  others=""
  for o in $folders; do [ "$o" = "$f" ] || others="$others $(cd "$o" && echo *.h)"; done
  bad=""
  for c in "$f"/*.c "$f"/*.h; do
    for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$c"); do
      # generated at build time from the SQL that defines them (ops/gen-constants)
      [ -e "$f/$h" ] || [ -e "lib/$h" ] || [ -e "$B/gen/$h" ] || [ "${h%.inc}" != "$h" ] && continue
      case " $others " in *" $h "*) bad="$bad $c:$h" ;; *) bad="$bad $c:$h(unknown)" ;; esac
    done
  done
  t_eq "$f/ includes only its own headers and lib/'s" "${bad# }" ""
done
missing=""
for c in lib/*.c collect/*.c ingest/*.c query/*.c legal/*.c; do
  case $(basename "$c") in spoor*) continue ;; esac
  h=${c%.c}.h
  if [ ! -e "$h" ]; then missing="$missing $h"; elif ! head -1 "$h" | grep -q '^/\*'; then missing="$missing $h(no contract)"; fi
done
t_eq "every module has its header, opening with its contract" "${missing# }" ""
for d in lib collect ingest query legal sql ops tests web; do
  [ -s "$d/README.md" ] && t_ok "$d/ has a README" || t_fail "$d/ has a README"
done
t_done
