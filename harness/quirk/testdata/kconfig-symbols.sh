#!/bin/sh
# kconfig-symbols.sh TREE SOURCE > kconfig-VERSION.txt
#
# Lists the Kconfig symbols a kernel tree defines for lkmtest's two arches:
# every "config NAME" and "menuconfig NAME" line of the Kconfig* files
# outside arch/, of arch/Kconfig and of arch/x86 and arch/arm64, one name a
# line (without CONFIG_), sorted. SOURCE says where TREE came from; it goes
# into the header line, which TestKconfigOf54 reads.
#
# kconfig-5.4.301.txt was made with
#   sh kconfig-symbols.sh linux-5.4.301 "Linux 5.4.301: github.com/unifreq/linux-5.4.y at 101662a61a60 (\"up to 5.4.301\")"
set -eu
tree=$1
source=$2
test -f "$tree/Makefile" && test -f "$tree/Kconfig" || { echo "$tree: not a kernel tree" >&2; exit 2; }
version=$(sed -n 's/^VERSION = //p; s/^PATCHLEVEL = //p; s/^SUBLEVEL = //p' "$tree/Makefile" | paste -sd.)
echo "# Kconfig symbols of $source, version $version; made by kconfig-symbols.sh (do not edit)"
cd "$tree"
find . -type f -name 'Kconfig*' \
	\( ! -path './arch/*' -o -path './arch/Kconfig' -o -path './arch/x86/*' -o -path './arch/arm64/*' \) |
	LC_ALL=C sort | xargs sed -n 's/^[[:space:]]*\(menu\)\{0,1\}config[[:space:]]\{1,\}\([A-Za-z0-9_]\{1,\}\)[[:space:]]*$/\2/p' |
	LC_ALL=C sort -u
