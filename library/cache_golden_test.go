package library

import "time"

// goldenCatalog is the catalog of the golden cache files under
// testdata/cache: two roots, a title spelled out in its path and one that
// is not, a DiskPath, both kinds of artwork, a missing track, playlists.
func goldenCatalog() *cacheData {
	mod := time.Date(2024, 5, 1, 12, 30, 0, 0, time.UTC)
	added := StampOf(time.Date(2026, 11, 20, 8, 0, 0, 123456789, time.UTC))
	album := Track{
		Root: "/srv/music", Artist: "Ólafur Arnalds", AlbumArtist: "Ólafur Arnalds", Album: "re:member",
		Genre: "Ambient", Year: 2018, TrackCount: 2, DiscNumber: 1, DiscCount: 1,
		Bitrate: 920, SampleRate: 44100, Channels: 2, Codec: "flac", Format: "flac", BitsPerSample: 16,
		MediaKind: MediaMusic, TagKind: MediaMusic, AlbumID: 0x1234_5678_9abc_def0, ArtistID: 0x0fed_cba9_8765_4321,
		Artwork: &Artwork{Source: ArtworkFile, Path: "Ólafur Arnalds/re:member/cover.jpg"},
	}
	t1, t2 := album, album
	pid := pidPrefix(testLibID)
	t1.ID, t1.PersistentID = 1001, trackPID(pid, 1001)
	t1.Path, t1.Title, t1.TrackNumber = "Ólafur Arnalds/re:member/01 re:member.flac", "re:member", 1
	t1.DurationMS, t1.Size, t1.ModTime, t1.Added = 302_000, 33_554_432, StampOf(mod), added
	t2.ID, t2.PersistentID = 1002, trackPID(pid, 1002)
	t2.Path, t2.Title, t2.TrackNumber = "Ólafur Arnalds/re:member/02 saman.flac", "Saman (Piano)", 2
	t2.SetExtra(Extra{DiskPath: "O\u0301lafur Arnalds/re:member/02 saman.flac", SortTitle: "Saman", Comment: "a comment"})
	t2.BPM = 72
	t2.DurationMS, t2.Size, t2.ModTime, t2.Added = 198_500, 21_000_000, StampOf(mod.Add(time.Minute)), added
	t3 := Track{
		ID: 4_000_000_000, PersistentID: trackPID(pid, 4_000_000_000), AlbumID: 7, ArtistID: 8,
		Root: "/mnt/nas", Path: "Podcasts/Show/ep1.mp3", Title: "Episode 1", Artist: "Host",
		Album: "Show", Compilation: true, Year: 1,
		DurationMS: 1, Bitrate: 128, SampleRate: 48000, Channels: 1, Codec: "mp3", Format: "mp3",
		MediaKind: MediaPodcast, TagKind: MediaMusic, Size: 0, ModTime: StampOf(time.Unix(0, 1)),
		Artwork: embeddedArt, Missing: true,
	}
	t3.SetExtra(Extra{Composer: "C", Grouping: "G", SortArtist: "host", SortAlbumArtist: "host",
		SortAlbum: "show", SortComposer: "c"})
	return &cacheData{
		LibraryID: testLibID,
		Tracks:    []*Track{&t3, &t1, &t2},
		Playlists: []*Playlist{
			{ID: 5000, PersistentID: 77, Name: "Mix", Root: "/srv/music", Path: "Playlists/mix.m3u",
				Items: []uint32{1002, 1001, 1002, 4_000_000_000}, Warnings: []string{"line 3: not found: x.mp3"}},
			{ID: 5001, PersistentID: 78, Name: "Long ones", Root: "/mnt/nas", Path: "long.smartpl",
				Smart: true, Query: `"daap.songtime" > 300000`},
		},
		Saved: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
	}
}
