package telemetryservice

import (
	"errors"
	"testing"
)

// What calls book for messages not arrived yet is held to half the limit;
// once a message arrived, its call holds what it took, no longer booked
// for a message, and the next booking fits again.
func TestBookingsForMessagesNotArrivedAreHeldToHalf(t *testing.T) {
	f := NewInFlight(100)
	first, second, third := &charge{of: f}, &charge{of: f}, &charge{of: f}
	if err := first.toUnread(30); err != nil {
		t.Fatal(err)
	}
	if err := second.toUnread(30); err == nil {
		t.Fatal("60 of 100 booked for messages not arrived")
	} else if e := (*inFlightError)(nil); !errors.As(err, &e) || !e.unread {
		t.Fatalf("refused as %v", err)
	}
	if err := third.to(70); err != nil {
		t.Fatalf("bytes that arrived fit the other half: %v", err)
	}
	if err := first.to(10); err != nil {
		t.Fatal(err)
	}
	if f.Unread() != 0 || f.Held() != 80 {
		t.Fatalf("held %d, %d of it booked for messages not arrived", f.Held(), f.Unread())
	}
	if err := second.toUnread(20); err != nil {
		t.Fatalf("a booking that fits both bounds: %v", err)
	}
	if err := second.toUnread(30); err == nil {
		t.Fatal("110 of 100 held")
	}
	for _, c := range []*charge{first, second, third} {
		c.release()
	}
	if f.Held() != 0 || f.Unread() != 0 {
		t.Fatalf("held %d (%d booked) after every call ended", f.Held(), f.Unread())
	}
}
