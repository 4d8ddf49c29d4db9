#!/bin/bash
# generate.sh — rebuild the daapd test fixtures in this folder.
#
# Writes short mono sine-tone tracks in every format daapd serves (MP3 with
# ID3v2.4/v2.3/v2.2/v1/no tags, M4A AAC and ALAC, FLAC, Ogg Vorbis, Opus in
# .opus and .ogg, WAV, AIFF), an audiobook (.m4b) and a podcast episode,
# folder art, playlists (.m3u, .m3u8, .pls, .smartpl) and
# junk the scanner must skip, then expected.json (the tags each file was
# written with) and the file table in README.md. The table of tracks lives
# in fixtures.py.
#
# Deterministic: ffmpeg runs with bit-exact flags and mutagen adds no
# timestamps, so a re-run with the same ffmpeg and mutagen gives the same
# bytes (check with `git status`). Everything generated is deleted first;
# generate.sh, fixtures.py and README.md's hand-written part are kept.
#
# Needs (Debian): apt-get install ffmpeg python3-mutagen
# Usage: music-fixtures/generate.sh      (from any directory)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
command -v ffmpeg >/dev/null || { echo "generate.sh: ffmpeg is missing (apt-get install ffmpeg)" >&2; exit 1; }
command -v ffprobe >/dev/null || { echo "generate.sh: ffprobe is missing (apt-get install ffmpeg)" >&2; exit 1; }
/usr/bin/python3 -c 'import mutagen' 2>/dev/null ||
	{ echo "generate.sh: python3-mutagen is missing (apt-get install python3-mutagen)" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/fixtures.XXXXXX")
trap 'rm -rf "$stage"' EXIT

LC_ALL=C.UTF-8 /usr/bin/python3 "$here/fixtures.py" "$stage"

# Replace everything generated; keep the generator and the README.
find "$here" -mindepth 1 -maxdepth 1 \
	! -name generate.sh ! -name fixtures.py ! -name README.md ! -name '*.go' \
	-exec rm -rf {} +
table="$stage/.table.md"
( cd "$stage" && find . -mindepth 1 -maxdepth 1 ! -name .table.md -exec cp -a {} "$here/" \; )

# Splice the file table between the markers in README.md.
/usr/bin/python3 - "$here/README.md" "$table" <<'PY'
import sys
readme, table = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
text = open(readme, encoding="utf-8").read()
begin, end = "<!-- BEGIN FILES (generated) -->\n", "<!-- END FILES -->\n"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(readme, "w", encoding="utf-8").write(head + begin + table + end + tail)
PY

count=$(find "$here" -type f \( -name '*.mp3' -o -name '*.m4a' -o -name '*.m4b' -o -name '*.flac' -o -name '*.ogg' -o -name '*.opus' -o -name '*.wav' -o -name '*.aiff' -o -name '*.wma' -o -name '*.wv' -o -name '*.tta' -o -name '*.ac3' -o -name '*.eac3' -o -name '*.aac' -o -name '*.mp2' -o -name '*.spx' -o -name '*.mka' -o -name '*.webm' \) | wc -l)
size=$(du -sk --exclude=generate.sh --exclude=fixtures.py "$here" | cut -f1)
echo "generate.sh: $count audio files (including skipped junk), ${size} KiB in $here"
