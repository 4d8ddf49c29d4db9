#!/bin/sh
# Regenerates the ffmpeg.* files: 50 ms of silence tagged the way ffmpeg 5.1
# (Debian) tags each container. TestFFmpegFiles lists what they must read as.
set -e
cd "$(dirname "$0")"
for ext in mp3 m4a flac ogg opus wav aiff; do
	extra=""
	[ "$ext" = aiff ] && extra="-write_id3v2 1"
	ffmpeg -loglevel error -f lavfi -i anullsrc=r=8000:cl=mono -t 0.05 \
		-metadata title=Title -metadata artist=Artist -metadata album_artist=AlbumArtist \
		-metadata album=Album -metadata composer=Composer -metadata genre=Rock \
		-metadata date=2019-05-03 -metadata track=3/25 -metadata disc=1/2 \
		-metadata compilation=1 -metadata comment=Comment -metadata artist-sort=SortArtist \
		-metadata album-sort=SortAlbum -metadata title-sort=SortTitle \
		-metadata album_artist-sort=SortAlbumArtist -metadata composer-sort=SortComposer \
		-metadata grouping=Grouping $extra -y "ffmpeg.$ext"
done
/usr/bin/python3 mutagen_tags.py
