#!/usr/bin/python3
"""Build the daapd test fixtures into OUTDIR (called by generate.sh).

Every track is a short mono sine tone encoded by ffmpeg with bit-exact
flags, tagged by mutagen or by hand-built bytes (ID3v2.2, ID3v1, WAV
LIST/INFO), so a re-run with the same ffmpeg and mutagen gives the same
bytes. The TRACKS table below is the single source of truth: it drives
the files, expected.json and the file table in README.md.

Usage: fixtures.py OUTDIR
"""
import base64
import json
import os
import struct
import subprocess
import sys
import unicodedata

from mutagen.aiff import AIFF
from mutagen.flac import FLAC, Picture
from mutagen.id3 import (ID3, APIC, COMM, PCST, TALB, TCMP, TCOM, TCON, TDRC, TIT2,
                         TPE1, TPE2, TPOS, TRCK, TSO2, TSOA, TSOP, TYER)
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.oggspeex import OggSpeex
from mutagen.apev2 import APEv2, APEValue, BINARY
from mutagen.asf import ASF, ASFByteArrayAttribute, ASFUnicodeAttribute
from mutagen.wave import WAVE

# encoder key -> (ffmpeg codec and muxer args, codec name daapd must report)
ENCODERS = {
    "mp3":     (["-c:a", "libmp3lame", "-b:a", "32k", "-ar", "44100",
                 "-id3v2_version", "0", "-write_id3v1", "0"], "mp3"),
    "mp3vbr":  (["-c:a", "libmp3lame", "-q:a", "9", "-ar", "44100",
                 "-id3v2_version", "0", "-write_id3v1", "0"], "mp3"),
    "mp3lsf":  (["-c:a", "libmp3lame", "-b:a", "24k", "-ar", "22050",
                 "-id3v2_version", "0", "-write_id3v1", "0"], "mp3"),
    "aac":     (["-c:a", "aac", "-b:a", "32k", "-ar", "44100", "-movflags", "+faststart"], "aac"),
    "alac":    (["-c:a", "alac", "-ar", "22050"], "alac"),  # moov after mdat
    "flac":    (["-c:a", "flac", "-ar", "22050", "-compression_level", "8"], "flac"),
    "vorbis":  (["-c:a", "libvorbis", "-q:a", "0", "-ar", "22050"], "vorbis"),
    "opus":    (["-c:a", "libopus", "-b:a", "16k", "-f", "ogg"], "opus"),
    "wav":     (["-c:a", "pcm_s16le", "-ar", "8000"], "pcm"),
    "aiff":    (["-c:a", "pcm_s16be", "-ar", "8000"], "pcm"),
    "wma":     (["-c:a", "wmav2", "-b:a", "32k", "-ar", "22050"], "wma"),
    "wavpack": (["-c:a", "wavpack", "-ar", "22050"], "wavpack"),
    "tta":     (["-c:a", "tta", "-ar", "8000"], "tta"),
    "ac3":     (["-c:a", "ac3", "-b:a", "64k", "-ar", "48000"], "ac3"),
    "eac3":    (["-c:a", "eac3", "-b:a", "64k", "-ar", "48000", "-f", "eac3"], "eac3"),
    "adts":    (["-c:a", "aac", "-b:a", "32k", "-ar", "44100", "-f", "adts"], "aac"),
    "mp2":     (["-c:a", "mp2", "-b:a", "64k", "-ar", "44100"], "mp2"),
    "speex":   (["-c:a", "libspeex", "-ar", "16000"], "speex"),
    "mka":     (["-c:a", "libvorbis", "-q:a", "0", "-ar", "22050", "-f", "matroska"], "vorbis"),
    "webm":    (["-c:a", "libopus", "-b:a", "16k", "-f", "webm"], "opus"),
}

# container as probe.Info reports it, by file extension
CONTAINER = {"mp3": "mp3", "m4a": "mp4", "m4b": "mp4", "flac": "flac", "ogg": "ogg", "opus": "ogg",
             "wav": "wav", "aiff": "aiff", "wma": "asf", "wv": "wavpack", "tta": "tta",
             "ac3": "ac3", "eac3": "eac3", "aac": "aac", "mp2": "mp3", "spx": "ogg",
             "mka": "matroska", "webm": "webm"}

ALPHA = dict(artist="Alpha Quartet", album_artist="Alpha Quartet", album="First Light",
             genre="Jazz", year=2019, date="2019-04-12", composer="Mira Holt")
BEATLES = dict(artist="The Beatles", album_artist="The Beatles", album="A Sort Test",
               sort_artist="Beatles, The", sort_album_artist="Beatles, The",
               sort_album="Sort Test, A", genre="Rock", year=1969)
OMEGA = dict(artist="Omega Archive", album="Old Tags", genre="Rock", year=1998)
SIGUR = dict(artist="Sigur Rós", album_artist="Sigur Rós", album="Ágætis Test",
             sort_artist="Sigur Ros", sort_album_artist="Sigur Ros",
             genre="Post-Rock", year=1999, composer="Jón Þór Birgisson")
EPSILON = dict(artist="Epsilon Drift", album_artist="Epsilon Drift", album="Vorbis Waves",
               genre="Ambient", year=2017)
TOKYO = dict(artist="東京 Zeta Trio", album_artist="東京 Zeta Trio", album="夜の音 (Night Sounds)",
             sort_artist="Tokyo Zeta Trio", sort_album_artist="Tokyo Zeta Trio",
             genre="World", year=2023)
PCM = dict(artist="Pcm Works", album_artist="Pcm Works", album="Raw Takes",
           genre="Electronic", year=2016)
MU = dict(artist="Mu Collective", album_artist="Mu Collective", album="Every Format",
          genre="Experimental", year=2008, track_total=10, disc=1, disc_total=1)
HITS = dict(album_artist="Various Artists", album="Hits of the Year", genre="Pop",
            year=2020, compilation=True, track_total=3, disc=1, disc_total=1)

# Each row: path, encoder, seconds, tagger, artwork ("jpeg"/"png" embedded,
# "file" = a folder image, None), what it exercises, tags.
TRACKS = [
    ("Alpha Quartet/First Light/01 Dawn Chorus.mp3", "mp3", 2, "id3v2.4", "jpeg",
     "ID3v2.4, APIC front cover, full date TDRC, composer, comment",
     dict(ALPHA, title="Dawn Chorus", track=1, track_total=2, disc=1, disc_total=1,
          comment="Recorded in one take")),
    ("Alpha Quartet/First Light/02 Evening Song.mp3", "mp3", 3, "id3v2.4", "jpeg",
     "ID3v2.4, same album, second track, 3 s",
     dict(ALPHA, title="Evening Song", track=2, track_total=2, disc=1, disc_total=1)),
    ("The Beatles/A Sort Test/01 Test Pattern.mp3", "mp3vbr", 2, "id3v2.3", "file",
     "ID3v2.3 (TYER), VBR with Xing header, TSOP/TSO2/TSOA sort names, folder cover.jpg",
     dict(BEATLES, title="Test Pattern", track=1, track_total=1, disc=1, disc_total=1,
          comment="Sort me under B")),
    ("Omega Archive/Old Tags/01 Twenty Two.mp3", "mp3", 1, "id3v2.2", "jpeg",
     "hand-built ID3v2.2 (TT2 in UTF-16, TP1, TAL, TRK, TPA, TYE, TCO, TCM, COM, PIC)",
     dict(OMEGA, title="Twenty Two", album_artist="Omega Archive", track=1, track_total=2,
          disc=1, disc_total=1, composer="Old Composer", comment="ID3v2.2 frames")),
    ("Omega Archive/Old Tags/02 Version One.mp3", "mp3lsf", 2, "id3v1", None,
     "ID3v1.1 only (no ID3v2), genre index 17, MPEG-2 Layer III at 22050 Hz",
     dict(OMEGA, title="Version One", track=2, comment="ID3v1 only")),
    ("Unsorted/untagged track.mp3", "mp3", 1, "none", None,
     "no tags at all: title falls back to the file name without extension",
     dict(title="untagged track")),
    ("The Gamma Ensemble/Harbor Lights/01 Harbor.m4a", "aac", 2, "mp4", "jpeg",
     "M4A/AAC, moov before mdat, covr JPEG, soar/soaa/soal, ©wrt, ©cmt",
     dict(artist="The Gamma Ensemble", album_artist="The Gamma Ensemble", album="Harbor Lights",
          sort_artist="Gamma Ensemble", sort_album_artist="Gamma Ensemble",
          sort_album="Harbor Lights", genre="Ambient", year=2021, composer="Noor Vance",
          title="Harbor", track=1, track_total=1, disc=1, disc_total=1,
          comment="AAC in MP4")),
    ("Delta Lossless/Apple Cores/01 Core Sample.m4a", "alac", 1, "mp4", "png",
     "M4A/ALAC, mdat before moov, covr PNG",
     dict(artist="Delta Lossless", album_artist="Delta Lossless", album="Apple Cores",
          genre="Electronic", year=2018, title="Core Sample", track=1, track_total=1,
          disc=1, disc_total=1)),
    ("Sigur Rós/Ágætis Test/1-01 Starálfur.flac", "flac", 2, "vorbis", "jpeg",
     "FLAC disc 1/2, PICTURE block, Unicode (NFC) artist/album/title, ARTISTSORT",
     dict(SIGUR, title="Starálfur", track=1, track_total=2, disc=1, disc_total=2)),
    ("Sigur Rós/Ágætis Test/1-02 Hjartað hamast.flac", "flac", 1, "vorbis", "jpeg",
     "FLAC disc 1/2, guest artist differs from album artist",
     dict(SIGUR, artist="Björk", sort_artist="Bjork", title="Hjartað hamast", track=2,
          track_total=2, disc=1, disc_total=2)),
    ("Sigur Rós/Ágætis Test/2-01 静かな朝 (Quiet Morning).flac", "flac", 1, "vorbis", "jpeg",
     "FLAC disc 2/2, CJK title",
     dict(SIGUR, title="静かな朝 (Quiet Morning)", track=1, track_total=1, disc=2,
          disc_total=2)),
    ("Epsilon Drift/Vorbis Waves/01 Tide.ogg", "vorbis", 2, "vorbis", "jpeg",
     "Ogg Vorbis, METADATA_BLOCK_PICTURE",
     dict(EPSILON, title="Tide", track=1, track_total=2, disc=1, disc_total=1,
          comment="Vorbis comment")),
    ("Epsilon Drift/Vorbis Waves/02 Undertow.ogg", "vorbis", 1, "vorbis", None,
     "Ogg Vorbis without a picture",
     dict(EPSILON, title="Undertow", track=2, track_total=2, disc=1, disc_total=1)),
    ("東京 Zeta Trio/夜の音/01 月 Moon.opus", "opus", 2, "opus", "file",
     "Opus in .opus (OpusTags), CJK path, folder.png",
     dict(TOKYO, title="月 Moon", track=1, track_total=2, disc=1, disc_total=1)),
    ("東京 Zeta Trio/夜の音/02 風 Wind.ogg", "opus", 1, "opus", "file",
     "Opus in .ogg: the codec must come from the stream, not the extension",
     dict(TOKYO, title="風 Wind", track=2, track_total=2, disc=1, disc_total=1)),
    ("Pcm Works/Raw Takes/01 Wave ID3.wav", "wav", 1, "wav-id3", None,
     "WAV with an `id3 ` chunk (mutagen.wave)",
     dict(PCM, title="Wave ID3", track=1, track_total=3, disc=1, disc_total=1,
          composer="Pat Sample")),
    ("Pcm Works/Raw Takes/02 Wave Info.wav", "wav", 1, "wav-info", None,
     "WAV with LIST/INFO (INAM IART IPRD IGNR ICRD ICMT ITRK) before data",
     dict(PCM, title="Wave Info", track=2, comment="RIFF INFO tags")),
    ("Pcm Works/Raw Takes/03 Aiff ID3.aiff", "aiff", 1, "aiff-id3", None,
     "AIFF with an `ID3 ` chunk (mutagen.aiff)",
     dict(PCM, title="Aiff ID3", track=3, track_total=3, disc=1, disc_total=1)),
    ("Compilations/Hits of the Year/01 Summer Hit.mp3", "mp3", 1, "id3v2.4", None,
     "compilation via TCMP=1, artist differs from album artist",
     dict(HITS, title="Summer Hit", artist="Iota Singer", track=1)),
    ("Compilations/Hits of the Year/02 Winter Hit.m4a", "aac", 1, "mp4", None,
     "compilation via cpil, second format and artist",
     dict(HITS, title="Winter Hit", artist="Kappa Band", track=2)),
    ("Compilations/Hits of the Year/03 Autumn Hit.flac", "flac", 1, "vorbis", None,
     "compilation via COMPILATION=1, third format and artist",
     dict(HITS, title="Autumn Hit", artist="Lambda Duo", track=3)),
    ("Audiobooks/The Long Read/01 Chapter One.m4b", "aac", 2, "mp4", None,
     "audiobook: .m4b with MP4 stik=2; its genre says nothing",
     dict(artist="Nu Narrator", album_artist="Nu Narrator", album="The Long Read", genre="Spoken Word",
          year=2022, title="Chapter One", track=1, track_total=1, stik=2, media_kind="audiobook")),
    ("Podcasts/Weekly Signal/Episode 12.mp3", "mp3", 1, "id3v2.4", None,
     "podcast: ID3 PCST frame (iTunes' podcast flag); its genre says nothing",
     dict(artist="Xi Hosts", album="Weekly Signal", genre="Talk", year=2024, title="Episode 12",
          track=12, podcast=True, media_kind="podcast")),
    ("Mu Collective/Every Format/01 Windows Media.wma", "wma", 1, "asf", "jpeg",
     "WMA (wmav2 in ASF): content description, WM/AlbumArtist, WM/TrackNumber, WM/Year, "
     "WM/PartOfSet, WM/Picture",
     dict(MU, title="Windows Media", track=1, track_total=0, composer="Nu Writer",
          comment="ASF attributes")),
    ("Mu Collective/Every Format/02 Wave Pack.wv", "wavpack", 1, "apev2", "jpeg",
     "WavPack with an APEv2 tag and a Cover Art (Front) item",
     dict(MU, title="Wave Pack", track=2)),
    ("Mu Collective/Every Format/03 True Audio.tta", "tta", 1, "apev2", None,
     "TTA with an APEv2 tag",
     dict(MU, title="True Audio", track=3)),
    ("Mu Collective/Every Format/04 Dolby Digital.ac3", "ac3", 1, "apev2", None,
     "raw AC-3 with an APEv2 tag appended (as foobar2000 writes it)",
     dict(MU, title="Dolby Digital", track=4)),
    ("Mu Collective/Every Format/05 Dolby Plus.eac3", "eac3", 1, "apev2", None,
     "raw E-AC-3 with an APEv2 tag appended",
     dict(MU, title="Dolby Plus", track=5)),
    ("Mu Collective/Every Format/06 Raw AAC.aac", "adts", 1, "id3v2.4", None,
     "ADTS AAC outside MP4, with an ID3v2.4 tag in front",
     dict(MU, title="Raw AAC", track=6)),
    ("Mu Collective/Every Format/07 Layer Two.mp2", "mp2", 1, "id3v2.4", None,
     "MPEG-1 Layer II with an ID3v2.4 tag",
     dict(MU, title="Layer Two", track=7)),
    ("Mu Collective/Every Format/08 Speex.spx", "speex", 1, "speex", None,
     "Ogg Speex with Vorbis comments",
     dict(MU, title="Speex", track=8)),
    ("Mu Collective/Every Format/09 Matroska.mka", "mka", 1, "mkv", "jpeg",
     "Vorbis in Matroska: SimpleTags (PART_NUMBER, ALBUM_ARTIST, DATE) and a cover attachment",
     dict(MU, title="Matroska", track=9)),
    ("Mu Collective/Every Format/10 WebM.webm", "webm", 1, "mkv", None,
     "Opus in WebM with SimpleTags",
     dict(MU, title="WebM", track=10)),
]

# Folder images: path -> (kind, colour).
FOLDER_ART = {
    "The Beatles/A Sort Test/cover.jpg": ("jpeg", "0xC0392B"),
    "東京 Zeta Trio/夜の音/folder.png": ("png", "0x16A085"),
}

# Files the scanner must skip: path -> (how it is made, why it is skipped).
JUNK = {
    ".hidden/Hidden Track.mp3": ("mp3", "inside a hidden folder"),
    "Unsorted/.dotfile.mp3": ("mp3", "hidden file"),
    "Alpha Quartet/First Light/._01 Dawn Chorus.mp3": ("appledouble", "macOS AppleDouble resource file"),
    "notes.txt": ("text", "not audio"),
}

# Playlists: path -> (format, lines or pls entries). Entries are written
# exactly as listed; "resolves" gives what each should resolve to (None
# = missing file), in order, duplicates kept.
M3U_ROAD = [
    "#EXTM3U",
    "#EXTINF:2,Alpha Quartet - Dawn Chorus",
    "../Alpha Quartet/First Light/01 Dawn Chorus.mp3",
    "# a plain comment line, ignored",
    "",
    "#EXTINF:2,The Gamma Ensemble - Harbor",
    "../The Gamma Ensemble/Harbor Lights/01 Harbor.m4a",
    "#EXTINF:1,Iota Singer - Summer Hit",
    "../Compilations/Hits of the Year/01 Summer Hit.mp3",
    "#EXTINF:3,Missing Artist - Gone",
    "../Missing Artist/Nowhere/01 Gone.mp3",
    "#EXTINF:2,Alpha Quartet - Dawn Chorus",
    "../Alpha Quartet/First Light/01 Dawn Chorus.mp3",
    "#EXTINF:2,Epsilon Drift - Tide",
    "../Epsilon Drift/Vorbis Waves/01 Tide.ogg",
]
M3U8_NORDIC = [
    "#EXTM3U",
    "#EXTINF:2,Sigur Rós - Starálfur",
    "..\\Sigur Rós\\Ágætis Test\\1-01 Starálfur.flac",
    "#EXTINF:1,Sigur Rós - 静かな朝 (Quiet Morning)",
    "..\\Sigur Rós\\Ágætis Test\\2-01 静かな朝 (Quiet Morning).flac",
    "#EXTINF:2,東京 Zeta Trio - 月 Moon",
    "/東京 Zeta Trio/夜の音/01 月 Moon.opus",
    "#EXTINF:1,東京 Zeta Trio - 風 Wind",
    "..\\東京 Zeta Trio\\夜の音\\02 風 Wind.ogg",
    "#EXTINF:9,Sigur Rós - Nope",
    "..\\Sigur Rós\\Ágætis Test\\9-99 Nope.flac",
    "#EXTINF:2,Sigur Rós - Starálfur",
    "..\\Sigur Rós\\Ágætis Test\\1-01 Starálfur.flac",
]
PLS_PCM = [
    ("Pcm Works/Raw Takes/01 Wave ID3.wav", "Pcm Works - Wave ID3", 1),
    ("Pcm Works/Raw Takes/02 Wave Info.wav", "Pcm Works - Wave Info", 1),
    ("Pcm Works/Raw Takes/04 Lost Take.wav", "Pcm Works - Lost Take", 1),
    ("Pcm Works/Raw Takes/03 Aiff ID3.aiff", "Pcm Works - Aiff ID3", 1),
    ("Omega Archive/Old Tags/02 Version One.mp3", "Omega Archive - Version One", 2),
    ("Pcm Works/Raw Takes/01 Wave ID3.wav", "Pcm Works - Wave ID3", 1),
]
# Smart playlists (.smartpl, OwnTone's language); "resolves" is computed
# from expected.json by the function next to each.
SMARTPL = [
    dict(path="Playlists/Lossless.smartpl", name="Lossless", format="smartpl",
         exercises="comments, OR across lines, upper-case keywords, text field codectype",
         text='# Lossless tracks, in library order.\n"Lossless" {\n  codectype is "flac"\n'
              '  OR codectype is "alac"   # Apple Lossless too\n}\n',
         select=lambda es: [e for e in es if e["codec"] in ("flac", "alac")]),
    dict(path="Playlists/Before 2019.smartpl", name="Before 2019, newest first", format="smartpl",
         exercises="and, not, parentheses, integer comparisons, media_kind, order by year desc, limit",
         text='"Before 2019, newest first" {\n  year < 2019 and year > 0\n  and not media_kind is audiobook\n'
              '  and not (genre includes "rock" and year < 1990)\n  order by year desc\n  limit 5\n}\n',
         select=lambda es: sorted([e for e in es if 0 < e["year"] < 2019 and e["media_kind"] != "audiobook"
                                   and not ("rock" in e["genre"].lower() and e["year"] < 1990)],
                                  key=lambda e: -e["year"])[:5]),
]

PLAYLISTS = [
    dict(path="Playlists/Road Trip.m3u", name="Road Trip", format="m3u",
         exercises="extended M3U, relative ../ paths, comment and blank lines, a missing entry, a duplicate",
         resolves=["Alpha Quartet/First Light/01 Dawn Chorus.mp3",
                   "The Gamma Ensemble/Harbor Lights/01 Harbor.m4a",
                   "Compilations/Hits of the Year/01 Summer Hit.mp3",
                   None,
                   "Alpha Quartet/First Light/01 Dawn Chorus.mp3",
                   "Epsilon Drift/Vorbis Waves/01 Tide.ogg"]),
    dict(path="Playlists/Nórdico 夜.m3u8", name="Nórdico 夜", format="m3u8",
         exercises="UTF-8 with BOM, CRLF line ends, Windows \\ separators, a root-absolute "
                   "/… entry that resolves under the music root, a missing entry, a duplicate",
         resolves=["Sigur Rós/Ágætis Test/1-01 Starálfur.flac",
                   "Sigur Rós/Ágætis Test/2-01 静かな朝 (Quiet Morning).flac",
                   "東京 Zeta Trio/夜の音/01 月 Moon.opus",
                   "東京 Zeta Trio/夜の音/02 風 Wind.ogg",
                   None,
                   "Sigur Rós/Ágætis Test/1-01 Starálfur.flac"]),
    dict(path="Raw Takes.pls", name="Raw Takes", format="pls",
         exercises="PLS v2 at the root, paths relative to the playlist, a missing entry, a duplicate",
         resolves=[e[0] if not e[0].endswith("Lost Take.wav") else None for e in PLS_PCM]),
]


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        sys.exit("fixtures: %s failed:\n%s" % (cmd[0], r.stderr.decode(errors="replace")[-2000:]))
    return r.stdout


def ffmpeg(*args):
    run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + list(args))


def encode(path, enc, seconds, freq):
    codec, _ = ENCODERS[enc]
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=%d:duration=%d:sample_rate=48000" % (freq, seconds),
           "-ac", "1", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
           *codec, path)


def image(path, kind, colour, size=32):
    """A tiny cover: a coloured square with a smaller test pattern in it."""
    args = ["-f", "lavfi", "-i", "color=c=%s:s=%dx%d:d=1" % (colour, size, size),
            "-f", "lavfi", "-i", "testsrc=s=%dx%d:d=1" % (size // 2, size // 2),
            "-filter_complex", "[0][1]overlay=%d:%d" % (size // 4, size // 4), "-frames:v", "1",
            "-fflags", "+bitexact", "-flags:v", "+bitexact"]
    if kind == "jpeg":
        args += ["-c:v", "mjpeg", "-q:v", "5", "-f", "image2"]
    else:
        args += ["-c:v", "png", "-pix_fmt", "rgb24", "-f", "image2"]
    ffmpeg(*args, path)
    with open(path, "rb") as f:
        return f.read()


def num(n, total):
    return "%d/%d" % (n, total) if total else "%d" % n


def tag_id3(path, t, version, cover):
    tags = ID3()
    tags.add(TIT2(encoding=3, text=t["title"]))
    tags.add(TPE1(encoding=3, text=t["artist"]))
    if t.get("album_artist"):
        tags.add(TPE2(encoding=3, text=t["album_artist"]))
    tags.add(TALB(encoding=3, text=t["album"]))
    tags.add(TCON(encoding=3, text=t["genre"]))
    if version == 4:
        tags.add(TDRC(encoding=3, text=t.get("date", str(t["year"]))))
    else:
        tags.add(TYER(encoding=1, text=str(t["year"])))
    tags.add(TRCK(encoding=3, text=num(t["track"], t.get("track_total"))))
    if t.get("disc"):
        tags.add(TPOS(encoding=3, text=num(t["disc"], t.get("disc_total"))))
    if t.get("composer"):
        tags.add(TCOM(encoding=3, text=t["composer"]))
    if t.get("comment"):
        tags.add(COMM(encoding=3, lang="eng", desc="", text=t["comment"]))
    if t.get("sort_artist"):
        tags.add(TSOP(encoding=3, text=t["sort_artist"]))
    if t.get("sort_album_artist"):
        tags.add(TSO2(encoding=3, text=t["sort_album_artist"]))
    if t.get("sort_album"):
        tags.add(TSOA(encoding=3, text=t["sort_album"]))
    if t.get("compilation"):
        tags.add(TCMP(encoding=3, text="1"))
    if t.get("podcast"):
        tags.add(PCST(value=1))
    if cover:
        data, mime = cover
        tags.add(APIC(encoding=0, mime=mime, type=3, desc="", data=data))
    # No update_to_v23: v2.3 keeps TSOP/TSOA as iTunes writes them.
    tags.save(path, v1=0, v2_version=version, padding=lambda info: 256)


def syncsafe(n):
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def tag_id3v22(path, t, cover):
    """Prepend a hand-built ID3v2.2 tag (mutagen cannot write v2.2)."""
    def frame(fid, data):
        return fid.encode() + struct.pack(">I", len(data))[1:] + data

    def latin1(fid, s):
        return frame(fid, b"\x00" + s.encode("latin-1"))

    frames = [
        frame("TT2", b"\x01" + t["title"].encode("utf-16")),  # UTF-16 with BOM
        latin1("TP1", t["artist"]),
        latin1("TP2", t["album_artist"]),
        latin1("TAL", t["album"]),
        latin1("TRK", num(t["track"], t["track_total"])),
        latin1("TPA", num(t["disc"], t["disc_total"])),
        latin1("TYE", str(t["year"])),
        latin1("TCO", t["genre"]),
        latin1("TCM", t["composer"]),
        frame("COM", b"\x00eng\x00" + t["comment"].encode("latin-1")),
    ]
    if cover:
        frames.append(frame("PIC", b"\x00JPG\x03\x00" + cover[0]))
    body = b"".join(frames) + b"\x00" * 64  # padding
    with open(path, "rb") as f:
        audio = f.read()
    with open(path, "wb") as f:
        f.write(b"ID3\x02\x00\x00" + syncsafe(len(body)) + body + audio)


GENRES_V1 = {"Rock": 17, "Pop": 13, "Jazz": 8, "Electronic": 52}


def tag_id3v1(path, t):
    """Append an ID3v1.1 tag: 30-byte fields, a zero byte, then the track."""
    def field(s, n):
        return s.encode("latin-1")[:n].ljust(n, b"\x00")

    tag = (b"TAG" + field(t["title"], 30) + field(t["artist"], 30) + field(t["album"], 30)
           + field(str(t["year"]), 4) + field(t.get("comment", ""), 28) + b"\x00"
           + bytes([t["track"], GENRES_V1[t["genre"]]]))
    assert len(tag) == 128
    with open(path, "ab") as f:
        f.write(tag)


def tag_mp4(path, t, cover):
    f = MP4(path)
    if f.tags is None:
        f.add_tags()
    m = f.tags
    m.clear()
    m["\xa9nam"] = t["title"]
    m["\xa9ART"] = t["artist"]
    m["aART"] = t["album_artist"]
    m["\xa9alb"] = t["album"]
    m["\xa9gen"] = t["genre"]
    m["\xa9day"] = str(t["year"])
    m["trkn"] = [(t["track"], t.get("track_total", 0))]
    m["disk"] = [(t.get("disc", 0), t.get("disc_total", 0))]
    if t.get("composer"):
        m["\xa9wrt"] = t["composer"]
    if t.get("comment"):
        m["\xa9cmt"] = t["comment"]
    if t.get("sort_artist"):
        m["soar"] = t["sort_artist"]
    if t.get("sort_album_artist"):
        m["soaa"] = t["sort_album_artist"]
    if t.get("sort_album"):
        m["soal"] = t["sort_album"]
    if t.get("compilation"):
        m["cpil"] = True
    if t.get("stik"):
        m["stik"] = [t["stik"]]
    if cover:
        fmt = MP4Cover.FORMAT_JPEG if cover[1] == "image/jpeg" else MP4Cover.FORMAT_PNG
        m["covr"] = [MP4Cover(cover[0], imageformat=fmt)]
    f.save()


def vorbis_fields(t):
    v = {"TITLE": t["title"], "ARTIST": t["artist"], "ALBUM": t["album"],
         "GENRE": t["genre"], "DATE": str(t["year"]), "TRACKNUMBER": str(t["track"])}
    if t.get("album_artist"):
        v["ALBUMARTIST"] = t["album_artist"]
    if t.get("track_total"):
        v["TRACKTOTAL"] = str(t["track_total"])
    if t.get("disc"):
        v["DISCNUMBER"] = str(t["disc"])
    if t.get("disc_total"):
        v["DISCTOTAL"] = str(t["disc_total"])
    for key, field in (("COMPOSER", "composer"), ("COMMENT", "comment"),
                       ("ARTISTSORT", "sort_artist"), ("ALBUMARTISTSORT", "sort_album_artist"),
                       ("ALBUMSORT", "sort_album")):
        if t.get(field):
            v[key] = t[field]
    if t.get("compilation"):
        v["COMPILATION"] = "1"
    return v


def picture(cover):
    p = Picture()
    p.type = 3
    p.mime = cover[1]
    p.desc = ""
    p.width = p.height = 32
    p.depth = 24
    p.data = cover[0]
    return p


def tag_flac(path, t, cover):
    f = FLAC(path)
    f.clear_pictures()
    f.delete()
    f = FLAC(path)
    for k, v in vorbis_fields(t).items():
        f[k] = v
    if cover:
        f.add_picture(picture(cover))
    f.save(deleteid3=True)


def tag_ogg(path, t, cover, cls):
    f = cls(path)
    f.delete()
    f = cls(path)
    for k, v in vorbis_fields(t).items():
        f[k] = v
    if cover:
        f["METADATA_BLOCK_PICTURE"] = base64.b64encode(picture(cover).write()).decode("ascii")
    f.save()


def tag_asf(path, t, cover):
    f = ASF(path)
    f["Title"] = t["title"]
    f["Author"] = t["artist"]
    f["WM/AlbumTitle"] = t["album"]
    f["WM/AlbumArtist"] = t["album_artist"]
    f["WM/Genre"] = t["genre"]
    f["WM/Year"] = str(t["year"])
    f["WM/TrackNumber"] = str(t["track"])
    f["WM/PartOfSet"] = num(t["disc"], t.get("disc_total"))
    if t.get("composer"):
        f["WM/Composer"] = t["composer"]
    if t.get("comment"):
        f["Description"] = t["comment"]
    if cover:
        data, mime = cover
        value = (struct.pack("<BI", 3, len(data)) + mime.encode("utf-16-le") + b"\0\0" +
                 b"\0\0" + data)
        f["WM/Picture"] = [ASFByteArrayAttribute(value)]
    f.save()


def tag_apev2(path, t, cover):
    f = APEv2()
    f["Title"] = t["title"]
    f["Artist"] = t["artist"]
    f["Album Artist"] = t["album_artist"]
    f["Album"] = t["album"]
    f["Genre"] = t["genre"]
    f["Year"] = str(t["year"])
    f["Track"] = num(t["track"], t.get("track_total"))
    f["Disc"] = num(t["disc"], t.get("disc_total"))
    if t.get("composer"):
        f["Composer"] = t["composer"]
    if cover:
        data, mime = cover
        name = b"cover.jpg" if mime == "image/jpeg" else b"cover.png"
        f["Cover Art (Front)"] = APEValue(name + b"\0" + data, BINARY)
    f.save(path)


def tag_mkv(path, t, cover, out):
    """Remux with ffmpeg, which writes Matroska SimpleTags and attachments."""
    tmp = path + ".tmp." + path.rsplit(".", 1)[1]
    args = ["-i", path, "-map", "0", "-c", "copy", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
    if cover:
        data, mime = cover
        img = os.path.join(out, ".attach." + ("jpg" if mime == "image/jpeg" else "png"))
        with open(img, "wb") as fh:
            fh.write(data)
        args += ["-attach", img, "-metadata:s:t:0", "mimetype=" + mime,
                 "-metadata:s:t:0", "filename=cover." + img.rsplit(".", 1)[1]]
    meta = dict(title=t["title"], artist=t["artist"], album_artist=t["album_artist"],
                album=t["album"], genre=t["genre"], date=str(t["year"]),
                track=num(t["track"], t.get("track_total")), disc=num(t["disc"], t.get("disc_total")))
    for k, v in meta.items():
        args += ["-metadata", "%s=%s" % (k, v)]
    ffmpeg(*args, tmp)
    os.replace(tmp, path)
    if cover:
        os.remove(img)


def tag_speex(path, t):
    f = OggSpeex(path)
    for k, v in vorbis_fields(t).items():
        f[k] = v
    f.save()


def tag_wav_id3(path, t):
    f = WAVE(path)
    f.add_tags()
    tag_id3_into(f, t)


def tag_id3_into(f, t):
    tags = f.tags
    tags.add(TIT2(encoding=3, text=t["title"]))
    tags.add(TPE1(encoding=3, text=t["artist"]))
    tags.add(TPE2(encoding=3, text=t["album_artist"]))
    tags.add(TALB(encoding=3, text=t["album"]))
    tags.add(TCON(encoding=3, text=t["genre"]))
    tags.add(TDRC(encoding=3, text=str(t["year"])))
    tags.add(TRCK(encoding=3, text=num(t["track"], t.get("track_total"))))
    tags.add(TPOS(encoding=3, text=num(t["disc"], t.get("disc_total"))))
    if t.get("composer"):
        tags.add(TCOM(encoding=3, text=t["composer"]))
    f.save(v2_version=4)


def tag_aiff(path, t):
    f = AIFF(path)
    f.add_tags()
    tag_id3_into(f, t)


def tag_wav_info(path, t):
    """Insert a LIST/INFO chunk before the data chunk (hand-built RIFF)."""
    with open(path, "rb") as f:
        raw = f.read()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
    chunks, pos = [], 12
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack("<I", raw[pos + 4:pos + 8])[0]
        chunks.append((cid, raw[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)

    def sub(cid, s):
        data = s.encode("utf-8") + b"\x00"
        return cid + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) & 1 else b"")

    info = b"INFO" + b"".join([
        sub(b"INAM", t["title"]), sub(b"IART", t["artist"]), sub(b"IPRD", t["album"]),
        sub(b"IGNR", t["genre"]), sub(b"ICRD", str(t["year"])), sub(b"ICMT", t["comment"]),
        sub(b"ITRK", str(t["track"]))])
    out = []
    for cid, data in chunks:
        if cid == b"LIST":
            continue
        if cid == b"data":
            out.append((b"LIST", info))
        out.append((cid, data))
    body = b"WAVE" + b"".join(c + struct.pack("<I", len(d)) + d + (b"\x00" if len(d) & 1 else b"")
                              for c, d in out)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def probe(path):
    out = run(["ffprobe", "-v", "error", "-show_entries",
               "stream=codec_name,sample_rate,channels:format=duration", "-of", "json", path])
    j = json.loads(out)
    s = j["streams"][0]
    ms = int(round(float(j["format"]["duration"]) * 1000))
    # Where the container's claim is far from the audio (ffmpeg's ASF muxer
    # states 1.6 s for 1 s of WMA), the decoded length is the truth.
    prog = run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-map", "0:a:0", "-f", "null",
                "-progress", "pipe:1", "-"]).decode()
    decoded = [int(l.split("=")[1]) for l in prog.splitlines() if l.startswith("out_time_us=")]
    if decoded and abs(decoded[-1] / 1000 - ms) > 100:
        ms = int(round(decoded[-1] / 1000))
    return dict(duration_ms=ms,
                sample_rate=int(s["sample_rate"]), channels=int(s["channels"]),
                ffprobe_codec=s["codec_name"])


def main():
    out = sys.argv[1]
    covers = {"jpeg": image(os.path.join(out, ".cover.jpg"), "jpeg", "0x2E86C1"),
              "png": image(os.path.join(out, ".cover.png"), "png", "0x8E44AD")}
    os.remove(os.path.join(out, ".cover.jpg"))
    os.remove(os.path.join(out, ".cover.png"))
    mimes = {"jpeg": "image/jpeg", "png": "image/png"}
    folder_images = {}
    for rel, (kind, colour) in FOLDER_ART.items():
        p = os.path.join(out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        image(p, kind, colour)
        folder_images[os.path.dirname(rel)] = (rel, mimes[kind])

    expected = []
    for i, (rel, enc, secs, tagger, art, exercises, t) in enumerate(TRACKS):
        assert unicodedata.is_normalized("NFC", rel), rel
        p = os.path.join(out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        encode(p, enc, secs, 330 + 55 * i)
        cover = (covers[art], mimes[art]) if art in covers else None
        if tagger == "id3v2.4":
            tag_id3(p, t, 4, cover)
        elif tagger == "id3v2.3":
            tag_id3(p, t, 3, cover)
        elif tagger == "id3v2.2":
            tag_id3v22(p, t, cover)
        elif tagger == "id3v1":
            tag_id3v1(p, t)
        elif tagger == "mp4":
            tag_mp4(p, t, cover)
        elif tagger == "vorbis" and rel.endswith(".flac"):
            tag_flac(p, t, cover)
        elif tagger == "vorbis":
            tag_ogg(p, t, cover, OggVorbis)
        elif tagger == "opus":
            tag_ogg(p, t, cover, OggOpus)
        elif tagger == "wav-id3":
            tag_wav_id3(p, t)
        elif tagger == "wav-info":
            tag_wav_info(p, t)
        elif tagger == "aiff-id3":
            tag_aiff(p, t)
        elif tagger == "asf":
            tag_asf(p, t, cover)
        elif tagger == "apev2":
            tag_apev2(p, t, cover)
        elif tagger == "mkv":
            tag_mkv(p, t, cover, out)
        elif tagger == "speex":
            tag_speex(p, t)
        elif tagger != "none":
            sys.exit("fixtures: unknown tagger " + tagger)
        ext = rel.rsplit(".", 1)[1]
        pr = probe(p)
        e = dict(path=rel, title=t["title"], artist=t.get("artist", ""),
                 album_artist=t.get("album_artist", ""), album=t.get("album", ""),
                 genre=t.get("genre", ""), year=t.get("year", 0), track=t.get("track", 0),
                 track_total=t.get("track_total", 0), disc=t.get("disc", 0),
                 disc_total=t.get("disc_total", 0), compilation=bool(t.get("compilation")),
                 composer=t.get("composer", ""), comment=t.get("comment", ""),
                 sort_artist=t.get("sort_artist", ""),
                 sort_album_artist=t.get("sort_album_artist", ""),
                 sort_album=t.get("sort_album", ""),
                 codec=ENCODERS[enc][1], format=ext, container=CONTAINER[ext], tags=tagger,
                 seconds=secs, duration_ms=pr["duration_ms"], sample_rate=pr["sample_rate"],
                 channels=pr["channels"], artwork="none", artwork_mime="", artwork_path="",
                 size=os.path.getsize(p), exercises=exercises,
                 media_kind=t.get("media_kind", "music"), stik=t.get("stik", 0),
                 podcast=bool(t.get("podcast")))
        if cover:
            e.update(artwork="embedded", artwork_mime=cover[1])
        elif art == "file":
            e.update(artwork="file", artwork_path=folder_images[os.path.dirname(rel)][0],
                     artwork_mime=folder_images[os.path.dirname(rel)][1])
        assert pr["ffprobe_codec"].startswith(e["codec"] if e["codec"] != "pcm" else "pcm_"), (rel, pr)
        expected.append(e)

    # junk the scanner must skip
    skipped = []
    for rel, (kind, why) in JUNK.items():
        p = os.path.join(out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if kind == "mp3":
            encode(p, "mp3", 1, 990)
            tag_id3(p, dict(title="Must Not Appear", artist="Hidden", album="Hidden",
                            genre="Rock", year=2000, track=1), 4, None)
        elif kind == "appledouble":
            # AppleDouble header: magic, version 2, filler, one Finder Info entry.
            data = struct.pack(">II16sH", 0x00051607, 0x00020000, b"Mac OS X        ", 1)
            data += struct.pack(">III", 9, 38, 32) + b"\x00" * 32
            with open(p, "wb") as f:
                f.write(data)
        else:
            with open(p, "w", encoding="utf-8") as f:
                f.write("Liner notes: this file is not audio and must be skipped by the scanner.\n")
        skipped.append(dict(path=rel, reason=why))

    # playlists
    for pl in PLAYLISTS:
        p = os.path.join(out, pl["path"])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if pl["format"] == "m3u":
            text = "\n".join(M3U_ROAD) + "\n"
            data = text.encode("utf-8")
        elif pl["format"] == "m3u8":
            data = "\ufeff".encode("utf-8") + ("\r\n".join(M3U8_NORDIC) + "\r\n").encode("utf-8")
        else:
            lines = ["[playlist]"]
            for n, (f_, title, length) in enumerate(PLS_PCM, 1):
                lines += ["File%d=%s" % (n, f_), "Title%d=%s" % (n, title), "Length%d=%d" % (n, length)]
            lines += ["NumberOfEntries=%d" % len(PLS_PCM), "Version=2"]
            data = ("\n".join(lines) + "\n").encode("utf-8")
        with open(p, "wb") as f:
            f.write(data)
        known = {e["path"] for e in expected}
        assert all(r is None or r in known for r in pl["resolves"]), pl["path"]

    # smart playlists: tracks in catalog order (root, then path bytes)
    smart = []
    for sp in SMARTPL:
        p = os.path.join(out, sp["path"])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write(sp["text"])
        in_order = sorted(expected, key=lambda e: e["path"].encode("utf-8"))
        smart.append(dict(path=sp["path"], name=sp["name"], format=sp["format"], exercises=sp["exercises"],
                          resolves=[e["path"] for e in sp["select"](in_order)]))

    doc = dict(
        comment="Generated by generate.sh from fixtures.py; do not edit. Paths are relative to "
                "music-fixtures/, slash-separated, NFC. Empty strings and zeros mean the tag was "
                "not written. duration_ms is ffprobe's figure: compare with a tolerance (±60 ms).",
        tracks=expected,
        playlists=[{k: v for k, v in pl.items()} for pl in PLAYLISTS] + smart,
        folder_art=[dict(path=rel, mime=mimes[k]) for rel, (k, _) in FOLDER_ART.items()],
        skipped=skipped,
    )
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    readme_table(out, expected, skipped)


def readme_table(out, expected, skipped):
    rows = ["| File | Title / Artist / Album | Track | Disc | Codec | ms | Art | Exercises |",
            "|---|---|---|---|---|---|---|---|"]
    for e in expected:
        tr = "%d/%d" % (e["track"], e["track_total"]) if e["track_total"] else str(e["track"] or "")
        dc = "%d/%d" % (e["disc"], e["disc_total"]) if e["disc_total"] else str(e["disc"] or "")
        art = e["artwork"] + (" " + e["artwork_mime"].split("/")[1] if e["artwork_mime"] else "")
        rows.append("| `%s` | %s / %s / %s | %s | %s | %s | %d | %s | %s%s |" % (
            e["path"], e["title"], e["artist"] or "—", e["album"] or "—", tr, dc, e["codec"],
            e["duration_ms"], art, e["tags"] + ": " if e["tags"] else "", e["exercises"]))
    rows += ["", "Skipped by the scanner:", ""]
    rows += ["- `%s`: %s" % (s["path"], s["reason"]) for s in skipped]
    with open(os.path.join(out, ".table.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
