package dmap_test

import (
	"fmt"

	"github.com/daapd/daapd/daap/dmap"
)

func ExampleBuilder() {
	b := dmap.Builder{Strict: true}
	b.Container("mlog", func(b *dmap.Builder) {
		b.Int("mstt", 200)
		b.Int("mlid", 42)
	})
	s, _ := dmap.Dump(b.Bytes())
	fmt.Print(s)
	// Output:
	// mlog  dmap.loginresponse
	//   mstt  dmap.status  200
	//   mlid  dmap.sessionid  42
}
