#!/bin/sh
# Builds dist/xdeno.run: ONE executable file = a small sh launcher + a gzip'd tar of the Deno
# runtime (from the pinned npm package), the bundle and its datapath Worker. On first run the launcher extracts to
# a cache directory keyed by the payload's hash (atomically: extract to a temp dir, rename),
# then execs `deno run --cached-only` with explicit permissions and its own DENO_DIR, so
# nothing is downloaded and nothing outside the cache directory is written by the launcher.
# Permissions: leading --allow-*/--deny-* arguments (`xdeno.run --allow-read=/etc/xdeno run …`,
# what dist/xdeno.service does) replace the default set, which is every permission but -A.
#
# usage: tools/make_run.sh [BUNDLE] [OUT]     (DENO_BIN overrides the runtime to embed)
set -eu
bundle=${1:-dist/xdeno.js}
out=${2:-dist/xdeno.run}
deno_bin=${DENO_BIN:-node_modules/deno/deno}
[ -f "$bundle" ] || { echo "make_run: no bundle $bundle (run deno task dist)" >&2; exit 1; }
[ -x "$deno_bin" ] || { echo "make_run: no deno runtime at $deno_bin" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$deno_bin" "$work/deno"
cp "$bundle" "$work/xdeno.js"
# The datapath Worker is its own module, loaded from beside the bundle (`./worker.ts` relative
# to it): bundle it too, else the service runs its packet loop in-process.
worker=$(dirname "$bundle")/worker.ts
"$deno_bin" bundle --quiet --platform=deno -o "$worker" lib/runtime/worker.ts
cp "$worker" "$work/worker.ts"
tar -C "$work" -cf - deno xdeno.js worker.ts | gzip -6 > "$work/payload"
hash=$(sha256sum "$work/payload" | cut -c1-16)

cat > "$work/head" <<HEAD
#!/bin/sh
# xdeno self-contained executable (launcher + Deno runtime + bundle). Payload $hash.
# Cache: \$XDENO_CACHE, else \$XDG_CACHE_HOME/xdeno, else \$HOME/.cache/xdeno, else /tmp.
set -eu
hash=$hash
base=\${XDENO_CACHE:-\${XDG_CACHE_HOME:-\${HOME:-/nonexistent}/.cache}/xdeno}
mkdir -p "\$base" 2>/dev/null || base=\${TMPDIR:-/tmp}/xdeno-\$(id -u)
mkdir -p -m 700 "\$base"
dir=\$base/\$hash
if [ ! -x "\$dir/deno" ]; then
  tmp=\$(mktemp -d "\$base/.extract.XXXXXX")
  line=\$(awk '/^__XDENO_PAYLOAD__\$/ { print NR + 1; exit }' "\$0")
  tail -n +"\$line" "\$0" | gzip -dc | tar -xf - -C "\$tmp"
  mkdir -p "\$tmp/deno_dir"
  mv "\$tmp" "\$dir" 2>/dev/null || rm -rf "\$tmp"
fi
# Leading --allow-*/--deny-* arguments are Deno permission flags and replace the default set
# (a service manager passes its narrow set); without them, every permission an operator's
# interactive use needs. The bundle goes after the n-th argument, by rotating "\$@".
n=0
for a do
  case \$a in --allow-*|--deny-*) n=\$((n + 1)) ;; *) break ;; esac
done
if [ "\$n" -eq 0 ]; then
  set -- --allow-read --allow-write --allow-net --allow-env --allow-sys --allow-ffi --allow-run "\$@"
  n=7
fi
i=0
for a do
  [ "\$i" -ne "\$n" ] || set -- "\$@" "\$dir/xdeno.js"
  set -- "\$@" "\$a"
  shift
  i=\$((i + 1))
done
[ "\$i" -ne "\$n" ] || set -- "\$@" "\$dir/xdeno.js"
DENO_DIR=\$dir/deno_dir DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 \\
exec "\$dir/deno" run --cached-only --no-config --no-lock --no-prompt "\$@"
__XDENO_PAYLOAD__
HEAD
cat "$work/head" "$work/payload" > "$out.tmp"
chmod 755 "$out.tmp"
mv "$out.tmp" "$out"
echo "make_run: $out ($(wc -c < "$out") bytes, payload $hash)"
