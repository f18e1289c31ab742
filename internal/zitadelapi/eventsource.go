package zitadelapi

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// eventScopes maps each instance a reader of ZITADEL's events (the audit
// trail) reads to the scope that reaches it, as the last Instances found.
type eventScopes struct {
	mu     sync.Mutex
	scopes map[string]scope
}

// Instances lists the instances whose events are read, as the scrape finds
// them: discovered through the system API, named by host, or the
// endpoint's own.
func (s *source) Instances(ctx context.Context) ([]string, error) {
	c := s.client
	if c == nil {
		return nil, errors.New("api source: not started")
	}
	found := map[string]scope{}
	var ids []string
	add := func(id string, sc scope) {
		if _, ok := found[id]; !ok && id != "" {
			found[id] = sc
			ids = append(ids, id)
		}
	}
	switch {
	case s.cfg.Instances.Discover:
		pageSize := uint32(s.cfg.PageSize)
		for offset := uint64(0); ; {
			page, total, err := c.listInstances(ctx, offset, pageSize)
			if err != nil {
				return nil, fmt.Errorf("listing instances through the system API: %w", err)
			}
			for _, in := range page {
				if host := routingDomain(in.GetDomains()); host != "" {
					add(in.GetId(), scope{host: host})
				}
			}
			offset += uint64(len(page))
			if len(page) < int(pageSize) || offset >= total {
				break
			}
		}
	default:
		hosts := s.cfg.Instances.Hosts
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		for _, h := range hosts {
			in, err := c.getMyInstance(ctx, scope{host: h})
			if err != nil {
				return nil, fmt.Errorf("reading the instance at %q: %w", h, err)
			}
			add(in.GetId(), scope{host: h})
		}
	}
	s.events.mu.Lock()
	s.events.scopes = found
	s.events.mu.Unlock()
	return ids, nil
}

// Read reads one page of an instance's events through ListEvents, in pages
// of ZITADEL's largest size.
func (s *source) Read(ctx context.Context, q zitadelevent.Query) (zitadelevent.Page, error) {
	c := s.client
	if c == nil {
		return zitadelevent.Page{}, errors.New("api source: not started")
	}
	s.events.mu.Lock()
	sc, ok := s.events.scopes[q.InstanceID]
	s.events.mu.Unlock()
	if !ok {
		return zitadelevent.Page{}, fmt.Errorf("instance %s: not among the instances the api source reaches", q.InstanceID)
	}
	return c.eventReader(sc, s.eventPage).Read(ctx, q)
}
