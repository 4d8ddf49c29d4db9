package announce

import "time"

// linkPoll is how often interfaces are re-read where no notifications come.
const linkPoll = 5 * time.Second

// pollLinks signals ch every linkPoll until stop is closed; the responder
// compares the interfaces itself.
func pollLinks(ch chan<- struct{}, stop <-chan struct{}) {
	t := time.NewTicker(linkPoll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			notify(ch)
		}
	}
}

func notify(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
