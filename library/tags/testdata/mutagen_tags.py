"""Writes the mutagen.* files: copies of ffmpeg.* re-tagged with mutagen
the way taggers (Picard, iTunes) write the cases dhowden/tag gets wrong.
TestMutagenFiles lists what they must read as."""
import base64
import shutil

from mutagen.flac import FLAC, Picture
from mutagen.id3 import ID3, TIT2, TPE1, TCON, TDRC, COMM, TXXX, APIC, TBPM, GRP1, TSO2, TSOC
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24

shutil.copy("ffmpeg.mp3", "mutagen.mp3")
t = ID3()
t.add(TIT2(encoding=1, text=["Multi"]))
t.add(TPE1(encoding=1, text=["Artist A", "Artist B"]))
t.add(TCON(encoding=3, text=["Rock", "Pop"]))
t.add(TDRC(encoding=3, text=["2019-05-03T10:11:12"]))
t.add(COMM(encoding=1, lang="eng", desc="iTunNORM", text=[" 00000A4C 00000A4C"]))
t.add(COMM(encoding=1, lang="eng", desc="", text=["Real comment"]))
t.add(TXXX(encoding=3, desc="MusicBrainz Album Id", text=["0a1b2c"]))
t.add(TBPM(encoding=0, text=["128"]))
t.add(GRP1(encoding=3, text=["Group"]))
t.add(TSO2(encoding=3, text=["Sorted AA"]))
t.add(TSOC(encoding=3, text=["Sorted C"]))
t.add(APIC(encoding=0, mime="image/png", type=4, desc="back", data=PNG))
t.add(APIC(encoding=0, mime="image/jpeg", type=3, desc="front", data=JPEG))
t.save("mutagen.mp3", v2_version=4)

shutil.copy("ffmpeg.m4a", "mutagen.m4a")
m = MP4("mutagen.m4a")
m.clear()
m["\xa9nam"] = ["Big Numbers"]
m["\xa9ART"] = ["Artist A", "Artist B"]
m["trkn"] = [(300, 400)]
m["disk"] = [(257, 300)]
m["tmpo"] = [128]
m["cpil"] = True
m["soar"] = ["Sorted A"]
m["soal"] = ["Sorted Album"]
m["sonm"] = ["Sorted Title"]
m["soaa"] = ["Sorted AA"]
m["soco"] = ["Sorted C"]
m["covr"] = [MP4Cover(PNG, imageformat=MP4Cover.FORMAT_PNG)]
m.save()

shutil.copy("ffmpeg.opus", "mutagen.opus")
o = OggOpus("mutagen.opus")
o.clear()
o["TITLE"] = ["Opus Pic"]
o["ARTIST"] = ["Artist A", "Artist B"]
o["ALBUM ARTIST"] = ["Band"]
o["tracknumber"] = ["7"]
o["totaltracks"] = ["9"]
p = Picture()
p.type, p.mime, p.data = 3, "image/jpeg", JPEG
o["METADATA_BLOCK_PICTURE"] = [base64.b64encode(p.write()).decode()]
o.save()

shutil.copy("ffmpeg.flac", "mutagen.flac")
f = FLAC("mutagen.flac")
f.clear()
f.clear_pictures()
f["TITLE"] = ["Flac Multi"]
f["ARTIST"] = ["Artist A", "Artist B"]
f["ALBUM_ARTIST"] = ["Band"]
f["DATE"] = ["2019-05-03T10:11"]
f["TRACKNUMBER"] = ["4"]
f["TRACKTOTAL"] = ["12"]
f["DISCNUMBER"] = ["2"]
f["DISCTOTAL"] = ["3"]
f["PERFORMER"] = ["Not the composer"]
back = Picture()
back.type, back.mime, back.data = 4, "image/png", PNG
front = Picture()
front.type, front.mime, front.data = 3, "image/jpeg", JPEG
f.add_picture(back)
f.add_picture(front)
f.save()
