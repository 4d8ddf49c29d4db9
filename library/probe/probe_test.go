package probe

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// probeCase is one hand-built input. want is compared field by field; a
// non-nil wantErr must match with errors.Is, and errText must appear in
// the message.
type probeCase struct {
	name    string
	data    []byte
	want    Info
	wantErr error
	errText string
}

var (
	cbr128   = repeat(mp3Frame(9, false, nil), 100) // 100 × 417 bytes
	mp3CBR   = Info{Container: "mp3", Codec: "mp3", DurationMS: 2606, Bitrate: 128, SampleRate: 44100, Channels: 2}
	apeTag   = cat([]byte("APETAGEX"), le32(2000), le32(48), le32(0), le32(1<<31|1<<29), make([]byte, 8), make([]byte, 16), []byte("APETAGEX"), le32(2000), le32(48), le32(0), le32(1<<31), make([]byte, 8))
	id3v1    = cat([]byte("TAG"), make([]byte, 125))
	vbrScan  = repeat(cat(mp3Frame(9, false, nil), mp3Frame(10, false, nil)), 50)
	aacEntry = audioEntry("mp4a", 2, 16, 44100, esds(128000, 2))
	aacMoov  = mp4Box("moov", mvhd(1000, 2500), trak("soun", mdhd(0, 44100, 110250), aacEntry))
	aacInfo  = Info{Container: "mp4", Codec: "aac", DurationMS: 2500, Bitrate: 128, SampleRate: 44100, Channels: 2}
	mdat40k  = mp4Box("mdat", make([]byte, 40000)) // 128 kbit/s over 2.5 s
	alacBox  = mp4Box("alac", be32(0), be32(4096), []byte{0, 24, 40, 10, 14, 2}, be16(255), be32(0), be32(0), be32(48000))
	videoTrk = trak("vide", mdhd(0, 600, 6000), mp4Box("avc1", make([]byte, 78)))
	flacSI   = flacBlock(0, false, streamInfoBody(44100, 2, 16, 441000))
	flacInfo = Info{Container: "flac", Codec: "flac", DurationMS: 10000, Bitrate: 8, SampleRate: 44100, Channels: 2, BitsPerSample: 16}
	vorbis   = cat(
		oggPageBytes(2, 0, 1, 0, vorbisID(44100, 2, 128000)),
		oggPageBytes(0, 0, 1, 1, []byte("\x03vorbis comments"), []byte("\x05vorbis setup")),
		oggPageBytes(0, 220500, 1, 2, make([]byte, 300)),
		oggPageBytes(4, 441000, 1, 3, make([]byte, 300)),
	)
	theoraBOS = oggPageBytes(2, 0, 9, 0, cat([]byte("\x80theora"), make([]byte, 34)))
	pcm8k     = Info{Container: "wav", Codec: "pcm", DurationMS: 2000, Bitrate: 128, SampleRate: 8000, Channels: 1, BitsPerSample: 16}
	pcmData   = make([]byte, 32000)
	aiff44    = Info{Container: "aiff", Codec: "pcm", DurationMS: 1000, Bitrate: 1411, SampleRate: 44100, Channels: 2, BitsPerSample: 16}
)

var probeCases = []probeCase{
	// Empty and unknown.
	{name: "empty", data: nil, wantErr: ErrUnknownFormat},
	{name: "three bytes", data: []byte("ID3"), wantErr: ErrUnknownFormat},
	{name: "text", data: []byte(strings.Repeat("not audio at all\n", 100)), wantErr: ErrUnknownFormat},
	{name: "ape without frames", data: cat([]byte("MAC "), le16(3990), make([]byte, 80)), wantErr: ErrTruncated, errText: "ape"},
	{name: "ape version 3.70", data: cat([]byte("MAC "), le16(3700), make([]byte, 80)), wantErr: ErrUndecodable, errText: "file version 3700"},
	{name: "tta after id3 without samples", data: cat(id3v2(20, false), []byte("TTA1"), make([]byte, 40)), wantErr: ErrTruncated, errText: "tta"},

	// MP3.
	{name: "mp3 cbr", data: cbr128, want: mp3CBR},
	{name: "mp3 id3v2 id3v1 ape", data: cat(id3v2(1000, false), cbr128, apeTag, id3v1), want: mp3CBR},
	{name: "mp3 trailing lyrics3 ape id3v2 id3v1", data: cat(cbr128, []byte("LYRICSBEGIN"), make([]byte, 9), []byte("000020LYRICS200"), apeTag, id3v2(50, true), id3v1), want: mp3CBR},
	{name: "mp3 id3v2 with footer", data: cat(id3v2(500, true), cbr128), want: mp3CBR},
	{name: "mp3 two id3v2 tags", data: cat(id3v2(100, false), id3v2(300, false), cbr128), want: mp3CBR},
	{name: "mp3 junk before first frame", data: cat(bytes.Repeat([]byte{0x12, 0xff}, 150), cbr128), want: mp3CBR},
	{name: "mp3 xing", data: cat(mp3Frame(9, false, xing("Xing", 100, 101*417)), cbr128),
		want: Info{Container: "mp3", Codec: "mp3", DurationMS: 2612, Bitrate: 127, SampleRate: 44100, Channels: 2}},
	{name: "mp3 info tag", data: cat(mp3Frame(9, false, xing("Info", 100, 101*417)), cbr128),
		want: Info{Container: "mp3", Codec: "mp3", DurationMS: 2612, Bitrate: 127, SampleRate: 44100, Channels: 2}},
	{name: "mp3 xing frame count lies", data: cat(mp3Frame(9, false, xing("Xing", 10_000_000, 0)), cbr128), want: mp3CBR},
	{name: "mp3 xing frames only, file cut to a third", data: cat(mp3Frame(9, false, cat(make([]byte, 32), []byte("Xing"), be32(1), be32(300))), cbr128),
		want: mp3CBR},
	{name: "mp3 xing frames only", data: cat(mp3Frame(9, false, cat(make([]byte, 32), []byte("Xing"), be32(1), be32(100))), cbr128),
		want: Info{Container: "mp3", Codec: "mp3", DurationMS: 2612, Bitrate: 127, SampleRate: 44100, Channels: 2}},
	{name: "mp3 info tag, all encoder delay and padding", data: cat(mp3Frame(9, false, cat(make([]byte, 32), []byte("Info"), be32(1), be32(2), []byte("LAME3.96r"), make([]byte, 12), []byte{0x24, 0x06, 0xc0})), repeat(mp3Frame(9, false, nil), 2)),
		wantErr: ErrUndecodable, errText: "encoder delay"},
	{name: "wavpack speaker mask for fewer channels", data: cat([]byte("wvpk"), le32(28), le16(0x410), []byte{0, 0}, le32(44100), le32(0), le32(4096), le32(9<<23), le32(0), []byte{0x0d, 1, 4, 0x04}),
		wantErr: ErrUndecodable, errText: "speaker mask"},
	{name: "wavpack speaker mask for as many channels", data: cat([]byte("wvpk"), le32(28), le16(0x410), []byte{0, 0}, le32(44100), le32(0), le32(4096), le32(9<<23), le32(0), []byte{0x0d, 1, 4, 0x33}),
		want: Info{Container: "wavpack", Codec: "wavpack", DurationMS: 1000, Bitrate: 0, SampleRate: 44100, Channels: 4, BitsPerSample: 8}},
	{name: "musepack sv8 sample rate index 4", data: cat([]byte("MPCKSH"), []byte{12}, be32(0), []byte{8, 0x7f, 0, 0x80, 0x10}, make([]byte, 32)), wantErr: ErrUndecodable, errText: "sample rate index 4"},
	{name: "mp3 xing byte count lies", data: cat(mp3Frame(9, false, xing("Xing", 100_000, 100_000*417)), cbr128), want: mp3CBR},
	{name: "mp3 vbri", data: cat(mp3Frame(9, false, cat(make([]byte, 32), []byte("VBRI"), be16(1), be16(0), be16(0), be32(101*417), be32(100))), cbr128),
		want: Info{Container: "mp3", Codec: "mp3", DurationMS: 2612, Bitrate: 127, SampleRate: 44100, Channels: 2}},
	{name: "mp3 vbr without header scans frames", data: vbrScan,
		want: Info{Container: "mp3", Codec: "mp3", DurationMS: 2612, Bitrate: 143, SampleRate: 44100, Channels: 2}},
	{name: "mpeg2 mono", data: repeat(mpegFrame(2, 8, 0, true, nil), 100),
		want: Info{Container: "mp3", Codec: "mp3", DurationMS: 2600, Bitrate: 64, SampleRate: 22050, Channels: 1}},
	{name: "mp3 truncated last frame", data: cbr128[:len(cbr128)-200],
		want: Info{Container: "mp3", Codec: "mp3", DurationMS: 2593, Bitrate: 128, SampleRate: 44100, Channels: 2}},
	{name: "id3v2 only", data: id3v2(100, false), wantErr: ErrUnknownFormat},
	{name: "id3v2 size past eof", data: cat(id3v2(100, false)[:10], cbr128[:500]), wantErr: ErrUnknownFormat},
	{name: "single frame is not mp3", data: mp3Frame(9, false, nil), wantErr: ErrUnknownFormat},

	// Raw AAC (ADTS).
	{name: "adts", data: repeat(cat(adtsFrame(300, 2), adtsFrame(400, 2)), 50),
		want: Info{Container: "aac", Codec: "aac", DurationMS: 2321, Bitrate: 120, SampleRate: 44100, Channels: 2}},
	{name: "adts after id3v2", data: cat(id3v2(100, false), repeat(adtsFrame(300, 1), 100), id3v1),
		want: Info{Container: "aac", Codec: "aac", DurationMS: 2321, Bitrate: 103, SampleRate: 44100, Channels: 1}},
	{name: "adts truncated", data: cat(repeat(adtsFrame(300, 1), 10), adtsFrame(300, 1)[:100]),
		want: Info{Container: "aac", Codec: "aac", DurationMS: 232, Bitrate: 103, SampleRate: 44100, Channels: 1}},

	// Matroska and WebM.
	{name: "webm opus", data: mkv("webm", 2500, mkvTrack(2, "A_OPUS", ebml(mkvSampleRate, f64(48000)), ebml(mkvChannels, []byte{2}))),
		want: Info{Container: "webm", Codec: "opus", DurationMS: 2500, Bitrate: 3, SampleRate: 48000, Channels: 2}},
	{name: "mka flac after a video track", data: mkv("matroska", 1000, mkvTrack(1, "V_VP9"), mkvTrack(2, "A_FLAC", ebml(mkvSampleRate, f64(96000)), ebml(mkvChannels, []byte{2}), ebml(mkvBitDepth, []byte{24}))),
		want: Info{Container: "matroska", Codec: "flac", DurationMS: 1000, SampleRate: 96000, Channels: 2, BitsPerSample: 24}},
	{name: "mkv video only", data: mkv("matroska", 1000, mkvTrack(1, "V_VP9")), wantErr: ErrNoAudio},
	{name: "mkv header only", data: ebml(ebmlHeader, ebml(ebmlDocType, []byte("matroska"))), wantErr: ErrTruncated},

	// MP4.
	{name: "m4a ftyp moov mdat", data: cat(ftyp(), aacMoov, mdat40k), want: aacInfo},
	{name: "m4a moov first", data: cat(aacMoov, mdat40k), want: aacInfo},
	{name: "m4a free first", data: cat(mp4Box("free", make([]byte, 10)), aacMoov, mdat40k), want: aacInfo},
	{name: "m4a mdat first 64-bit", data: cat(ftyp(), mp4Box64("mdat", make([]byte, 40000)), aacMoov), want: aacInfo},
	{name: "m4a size-0 last box", data: cat(ftyp(), mp4Box("free", nil), aacMoov, be32(0), []byte("mdat"), make([]byte, 40000)), want: aacInfo},
	{name: "m4a size-0 moov", data: cat(ftyp(), mdat40k, be32(0), aacMoov[4:]), want: aacInfo},
	{name: "m4a without mdat", data: cat(ftyp(), aacMoov), wantErr: ErrUndecodable, errText: "mdat"},
	{name: "m4a alac mdhd v1", data: cat(ftyp(), mp4Box("moov", trak("soun", mdhd(1, 48000, 480000), audioEntry("alac", 2, 16, 48000, alacBox))), mp4Box("mdat", make([]byte, 40000))),
		want: Info{Container: "mp4", Codec: "alac", DurationMS: 10000, Bitrate: 32, SampleRate: 48000, Channels: 2, BitsPerSample: 24}},
	{name: "m4a mvhd fallback", data: cat(ftyp(), mp4Box("moov", mvhd(600, 1200), trak("soun", mdhd(0, 44100, 0), aacEntry)), mp4Box("mdat", make([]byte, 32000))),
		want: Info{Container: "mp4", Codec: "aac", DurationMS: 2000, Bitrate: 128, SampleRate: 44100, Channels: 2}},
	{name: "m4v picks the sound track", data: cat(ftyp(), mp4Box("moov", mvhd(1000, 10000), videoTrk, trak("soun", mdhd(0, 44100, 110250), aacEntry)), mdat40k), want: aacInfo},
	{name: "mp4 ac-3", data: cat(ftyp(), mp4Box("moov", trak("soun", mdhd(0, 48000, 48000), audioEntry("ac-3", 2, 16, 48000, mp4Box("dac3", []byte{0x10, 0x3d, 0xc0})))), mdat40k),
		want: Info{Container: "mp4", Codec: "ac3", DurationMS: 1000, Bitrate: 320, SampleRate: 48000, Channels: 2}},
	{name: "mp4 opus", data: cat(ftyp(), mp4Box("moov", trak("soun", mdhd(0, 48000, 96000), audioEntry("Opus", 2, 16, 48000, mp4Box("dOps", []byte{0, 2}, be16(312), be32(48000), be16(0), []byte{0})))), mdat40k),
		want: Info{Container: "mp4", Codec: "opus", DurationMS: 2000, Bitrate: 160, SampleRate: 48000, Channels: 2}},
	{name: "m4p protected", data: cat(ftyp(), mp4Box("moov", trak("soun", mdhd(0, 44100, 110250), audioEntry("drms", 2, 16, 44100, esds(128000, 2), mp4Box("sinf", mp4Box("frma", []byte("mp4a")), mp4Box("schm", make([]byte, 12)))))), mdat40k),
		want: Info{Container: "mp4", Codec: "aac", DurationMS: 2500, Bitrate: 128, SampleRate: 44100, Channels: 2, Protected: true}},
	{name: "mov wave box", data: cat(mp4Box("wide"), mp4Box("moov", trak("soun", mdhd(0, 44100, 110250), audioEntry("mp4a", 2, 16, 44100, mp4Box("wave", mp4Box("frma", []byte("mp4a")), esds(128000, 1))))), mdat40k),
		want: Info{Container: "mp4", Codec: "aac", DurationMS: 2500, Bitrate: 128, SampleRate: 44100, Channels: 1}},
	{name: "m4a mdhd is the last box", data: cat(ftyp(), mdat40k, mp4Box("moov", mp4Box("trak", mp4Box("mdia",
		hdlr("soun"), mp4Box("minf", mp4Box("stbl", mp4Box("stsd", be32(0), be32(1), aacEntry))), mdhd(0, 44100, 110250))))),
		want: aacInfo},
	{name: "fragmented mp4, trex default durations", data: cat(ftyp(),
		mp4Box("moov", trak("soun", mdhd(0, 44100, 0), aacEntry), mp4Box("mvex", mp4Box("trex", be32(0), be32(1), be32(1), be32(1024), be32(0), be32(0)))),
		repeat(cat(mp4Box("moof", mp4Box("mfhd", be32(0), be32(1)), mp4Box("traf", mp4Box("tfhd", be32(0), be32(1)), mp4Box("trun", be32(0), be32(10)))), mp4Box("mdat", make([]byte, 3700))), 2)),
		want: Info{Container: "mp4", Codec: "aac", DurationMS: 464, Bitrate: 127, SampleRate: 44100, Channels: 2}},
	{name: "fragmented mp4, tfdt and sample durations", data: cat(ftyp(),
		mp4Box("moov", trak("soun", mdhd(0, 44100, 0), aacEntry), mp4Box("mvex", mp4Box("trex", be32(0), be32(1), be32(1), be32(1024), be32(0), be32(0)))),
		mp4Box("moof", mp4Box("traf", mp4Box("tfhd", be32(0), be32(1)), mp4Box("trun", be32(0), be32(10)))), mp4Box("mdat", make([]byte, 3700)),
		mp4Box("moof", mp4Box("traf", mp4Box("tfhd", be32(0), be32(1)), mp4Box("tfdt", be32(0), be32(10240)), mp4Box("trun", be32(0x100), be32(5), repeat(be32(2048), 5)))), mp4Box("mdat", make([]byte, 3700))),
		want: Info{Container: "mp4", Codec: "aac", DurationMS: 464, Bitrate: 127, SampleRate: 44100, Channels: 2}},
	{name: "mp4 video only", data: cat(ftyp(), mp4Box("moov", videoTrk), mdat40k), wantErr: ErrNoAudio},
	{name: "mp4 truncated moov", data: cat(ftyp(), aacMoov[:40]), wantErr: ErrNoAudio},
	{name: "mp4 no moov", data: cat(ftyp(), mdat40k), wantErr: ErrTruncated},
	{name: "mp4 box smaller than header", data: cat(ftyp(), be32(4), []byte("moov"), make([]byte, 40)), wantErr: ErrTruncated},

	// FLAC.
	{name: "flac", data: cat([]byte("fLaC"), flacSI, flacBlock(4, true, make([]byte, 40)), make([]byte, 10000)), want: flacInfo},
	{name: "flac after id3v2", data: cat(id3v2(200, false), []byte("fLaC"), flacSI, flacBlock(4, true, make([]byte, 40)), make([]byte, 10000)), want: flacInfo},
	{name: "flac unknown total uses last frame", data: cat([]byte("fLaC"), flacBlock(0, true, streamInfoBody(44100, 2, 16, 0)), flacFrame(0), flacFrame(1), flacFrame(2)),
		want: Info{Container: "flac", Codec: "flac", DurationMS: 278, Bitrate: 1, SampleRate: 44100, Channels: 2, BitsPerSample: 16}},
	{name: "flac lying block length", data: cat([]byte("fLaC"), flacSI, []byte{0x81, 0xff, 0xff, 0xff}, make([]byte, 100)),
		want: Info{Container: "flac", Codec: "flac", DurationMS: 10000, SampleRate: 44100, Channels: 2, BitsPerSample: 16}},
	{name: "flac truncated streaminfo", data: cat([]byte("fLaC"), []byte{0, 0, 0, 34}, make([]byte, 10)), wantErr: ErrTruncated},
	{name: "flac first block not streaminfo", data: cat([]byte("fLaC"), flacBlock(4, true, make([]byte, 40))), wantErr: ErrTruncated},

	// Ogg.
	{name: "ogg header page fails its CRC", data: flip(vorbis, 58+30), wantErr: ErrUndecodable, errText: "checksum"},
	{name: "ogg vorbis", data: vorbis, want: Info{Container: "ogg", Codec: "vorbis", DurationMS: 10000, Bitrate: 128, SampleRate: 44100, Channels: 2}},
	{name: "ogg opus pre-skip", data: cat(
		oggPageBytes(2, 0, 7, 0, opusHead(2, 312)),
		oggPageBytes(0, 0, 7, 1, []byte("OpusTags")),
		oggPageBytes(4, 5*48000+312, 7, 2, make([]byte, 1000))),
		want: Info{Container: "ogg", Codec: "opus", DurationMS: 5000, Bitrate: 1, SampleRate: 48000, Channels: 2}},
	{name: "ogg flac", data: cat(
		oggPageBytes(2, 0, 3, 0, cat([]byte("\x7fFLAC\x01\x00"), be16(1), []byte("fLaC"), []byte{0x80, 0, 0, 34}, streamInfoBody(44100, 2, 16, 0))),
		oggPageBytes(4, 3*44100, 3, 1, make([]byte, 500))),
		want: Info{Container: "ogg", Codec: "flac", DurationMS: 3000, Bitrate: 1, SampleRate: 44100, Channels: 2, BitsPerSample: 16}},
	{name: "ogg multiplexed theora and vorbis", data: cat(
		theoraBOS,
		oggPageBytes(2, 0, 1, 0, vorbisID(48000, 2, 96000)),
		oggPageBytes(0, 0, 1, 1, []byte("\x03vorbis"), []byte("\x05vorbis")),
		oggPageBytes(4, 96000, 1, 2, make([]byte, 300)),
		oggPageBytes(4, 1<<40, 9, 1, make([]byte, 300))),
		want: Info{Container: "ogg", Codec: "vorbis", DurationMS: 2000, Bitrate: 96, SampleRate: 48000, Channels: 2}},
	{name: "ogg last audio page far from the end", data: cat(
		vorbis[:len(vorbis)-len(oggPageBytes(4, 441000, 1, 3, make([]byte, 300)))],
		oggPageBytes(0, 441000, 1, 3, make([]byte, 300)),
		repeat(oggPageBytes(0, 1<<40, 9, 1, make([]byte, 60000)), 3)),
		want: Info{Container: "ogg", Codec: "vorbis", DurationMS: 10000, Bitrate: 145, SampleRate: 44100, Channels: 2}},
	{name: "ogg theora only", data: cat(theoraBOS, oggPageBytes(0, 100, 9, 1, make([]byte, 100))), wantErr: ErrNoAudio},
	{name: "ogg truncated page", data: []byte("OggS\x00\x02\x00\x00"), wantErr: ErrTruncated},
	{name: "ogg no granule", data: vorbis[:len(oggPageBytes(2, 0, 1, 0, vorbisID(44100, 2, 128000)))],
		want: Info{Container: "ogg", Codec: "vorbis", Bitrate: 128, SampleRate: 44100, Channels: 2}},

	// WAV.
	{name: "wav pcm", data: riff(wavFmt(1, 1, 8000, 16), riffChunk("data", pcmData)), want: pcm8k},
	{name: "wav odd chunk before fmt", data: riff(riffChunk("junk", []byte{1, 2, 3}), wavFmt(1, 1, 8000, 16), riffChunk("data", pcmData)), want: pcm8k},
	{name: "wav data size 0xffffffff", data: cat(riff(wavFmt(1, 1, 8000, 16)), []byte("data"), le32(0xffffffff), pcmData), want: pcm8k},
	{name: "wav data size 0 streams to eof", data: cat(riff(wavFmt(1, 1, 8000, 16)), []byte("data"), le32(0), pcmData), want: pcm8k},
	{name: "wav data larger than file", data: cat(riff(wavFmt(1, 1, 8000, 16)), []byte("data"), le32(1_000_000), pcmData), want: pcm8k},
	{name: "rf64", data: cat([]byte("RF64"), le32(0xffffffff), []byte("WAVE"),
		riffChunk("ds64", cat(le64(0), le64(32000), le64(16000), le32(0))),
		wavFmt(1, 1, 8000, 16), []byte("data"), le32(0xffffffff), pcmData, riffChunk("id3 ", make([]byte, 20))), want: pcm8k},
	{name: "wav extensible float", data: riff(riffChunk("fmt ", cat(le16(0xfffe), le16(2), le32(48000), le32(384000), le16(8), le16(32), le16(22), le16(32), le32(3), []byte{3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71})), riffChunk("data", make([]byte, 38400))),
		want: Info{Container: "wav", Codec: "pcm_float", DurationMS: 100, Bitrate: 3072, SampleRate: 48000, Channels: 2, BitsPerSample: 32}},
	{name: "wav without fmt", data: riff(riffChunk("data", pcmData)), wantErr: ErrTruncated},
	{name: "wav short fmt", data: riff(riffChunk("fmt ", make([]byte, 8))), wantErr: ErrTruncated},
	{name: "riff not wave", data: cat([]byte("RIFF"), le32(4), []byte("AVI ")), wantErr: ErrUnknownFormat},

	// AIFF.
	{name: "aiff", data: form("AIFF", comm(2, 44100, 16, 44100), iffChunk("SSND", cat(be32(0), be32(0), make([]byte, 100)))), want: aiff44},
	{name: "aiff odd chunk before comm", data: form("AIFF", iffChunk("ANNO", []byte("abc")), comm(2, 44100, 16, 44100)), want: aiff44},
	{name: "aifc alaw", data: form("AIFC", iffChunk("FVER", be32(0xa2805140)), comm(1, 8000, 16, 8000, []byte("alaw"), []byte("\x04alaw\x00")), iffChunk("SSND", cat(be32(0), be32(0), make([]byte, 8000)))),
		want: Info{Container: "aiff", Codec: "alaw", DurationMS: 1000, Bitrate: 64, SampleRate: 8000, Channels: 1, BitsPerSample: 8}},
	{name: "aiff bad rate", data: form("AIFF", iffChunk("COMM", cat(be16(2), be32(100), be16(16), []byte{0x7f, 0xff}, make([]byte, 8)))), errText: "sample rate"},
	{name: "aiff without comm", data: form("AIFF", iffChunk("SSND", make([]byte, 20))), wantErr: ErrTruncated},

	// DSD.
	{name: "dsf", data: cat([]byte("DSD "), le64(28), le64(0), le64(0),
		[]byte("fmt "), le64(52), le32(1), le32(0), le32(2), le32(2), le32(2822400), le32(1), le64(3*2822400), le32(4096), le32(0),
		[]byte("data"), le64(12+16), make([]byte, 16)),
		want: Info{Container: "dsf", Codec: "dsd", DurationMS: 3000, Bitrate: 5644, SampleRate: 2822400, Channels: 2, BitsPerSample: 1}},
	{name: "dff", data: cat([]byte("FRM8"), be64(0), []byte("DSD "),
		[]byte("FVER"), be64(4), be32(0x01050000),
		[]byte("PROP"), be64(4+12+4+12+10+12+4), []byte("SND "),
		[]byte("FS  "), be64(4), be32(2822400),
		[]byte("CHNL"), be64(10), be16(2), []byte("SLFTSRGT"),
		[]byte("CMPR"), be64(4), []byte("DSD "),
		[]byte("DSD "), be64(7056), make([]byte, 7056)),
		want: Info{Container: "dff", Codec: "dsd", DurationMS: 10, Bitrate: 5644, SampleRate: 2822400, Channels: 2, BitsPerSample: 1}},
}

func TestProbe(t *testing.T) {
	for _, tc := range probeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Probe(bytes.NewReader(tc.data), int64(len(tc.data)))
			if tc.wantErr != nil || tc.errText != "" {
				if err == nil {
					t.Fatalf("Probe = %+v, want error", got)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("error %q, want %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.errText) {
					t.Errorf("error %q does not mention %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Probe mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestTruncations cuts every case at many lengths: no panic, and no
// success claiming a container other than the whole file's.
func TestTruncations(t *testing.T) {
	for _, tc := range probeCases {
		for n := 0; n < len(tc.data); n += 1 + len(tc.data)/97 {
			got, err := Probe(bytes.NewReader(tc.data[:n]), int64(n))
			if err == nil && tc.want.Container != "" && got.Container != tc.want.Container {
				t.Errorf("%s cut at %d: container %q, want %q", tc.name, n, got.Container, tc.want.Container)
			}
		}
	}
}

// failingReader returns an I/O error for reads past a limit.
type failingReader struct {
	data  []byte
	limit int64
}

var errDisk = errors.New("disk on fire")

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.limit {
		return 0, errDisk
	}
	return copy(p, f.data[off:]), nil
}

func TestReadErrors(t *testing.T) {
	// An MP3 whose tail (ID3v1 check) cannot be read: the error surfaces.
	big := cat(id3v2(70000, false), cbr128)
	if _, err := Probe(failingReader{big, 80000}, int64(len(big))); !errors.Is(err, errDisk) {
		t.Errorf("Probe error %v, want %v", err, errDisk)
	}
	// A size larger than the data is trimmed, not an error.
	got, err := Probe(bytes.NewReader(cbr128), int64(len(cbr128))+1_000_000)
	if err != nil || got != mp3CBR {
		t.Errorf("Probe with an overstated size = %+v, %v; want %+v", got, err, mp3CBR)
	}
}
