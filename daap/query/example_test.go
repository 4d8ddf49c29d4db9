package query_test

import (
	"fmt"

	"github.com/daapd/daapd/daap/query"
)

func ExampleParse() {
	q, err := query.Parse(`('daap.songartist:*band*','daap.songalbumartist:*band*') 'com.apple.itunes.mediakind:1'`)
	if err != nil {
		panic(err)
	}
	track := map[string]string{"daap.songartist": "The Band", "com.apple.itunes.mediakind": "1"}
	fmt.Println(q)
	fmt.Println(q.Match(func(f string) (string, bool) { v, ok := track[f]; return v, ok || f == "daap.songalbumartist" }))
	// Output:
	// ('daap.songartist:*band*','daap.songalbumartist:*band*')+'com.apple.itunes.mediakind:1'
	// true
}
