package zitadelapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
	"google.golang.org/grpc"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
)

type source struct {
	cfg      *Config
	plan     plan
	set      component.TelemetrySettings
	own      *zitadelreceivermetadata.TelemetryBuilder
	now      func() time.Time
	systemID string

	conn       *grpc.ClientConn
	httpClient *http.Client // token exchange, for key_file
	client     *client

	// state is what incremental scrapes keep, by instance id. Scrapes do not
	// overlap, so only the running scrape touches it.
	state map[string]*instanceState
	// eventPage is the ListEvents page asked for: ZITADEL's largest.
	eventPage int
	// activity is nil unless activity::enabled.
	activity *activity.Tracker
	// events reaches the instances whose events are read (Instances, Read).
	events eventScopes
}

// NewSource returns the `api` source, which counts its calls in own; act is
// the receiver's `activity:` block.
func NewSource(cfg *Config, act activity.Config, filter model.ResourceFilter, set component.TelemetrySettings, own *zitadelreceivermetadata.TelemetryBuilder) model.Source {
	return &source{
		cfg:      cfg,
		plan:     newPlan(filter, cfg.PerOrganization),
		set:      set,
		own:      own,
		now:      time.Now,
		systemID: derivedSystemID(cfg.Endpoint),
		state:    map[string]*instanceState{},

		eventPage: maxEventPage,
		activity:  activity.NewTracker(act, cfg.AuditLogRetention, set.Logger),
	}
}

// Start opens the one connection every scrape shares. It does not call
// ZITADEL: a server that is down at start is reported by the first scrape.
func (s *source) Start(ctx context.Context, host component.Host) error {
	var extensions map[component.ID]component.Component
	if host != nil {
		extensions = host.GetExtensions()
	}
	creds, err := s.credentials(ctx)
	if err != nil {
		return err
	}
	if err := s.activity.Start(ctx, host); err != nil {
		return err
	}
	conn, err := s.cfg.ToClientConn(ctx, extensions, s.set)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	var limiter *rate.Limiter
	if s.cfg.RequestsPerSecond > 0 {
		limiter = newLimiter(s.cfg.RequestsPerSecond)
	}
	s.conn = conn
	s.client = &client{
		conn:    conn,
		creds:   creds,
		limiter: limiter,
		timeout: s.cfg.RequestTimeout,
		retry:   s.cfg.Retry,
		metrics: s.own,
	}
	s.set.Logger.Info("Counting ZITADEL resources through its API",
		zap.String("endpoint", s.cfg.Endpoint),
		zap.String("instances", s.instanceMode()),
		zap.Strings("credentials", s.cfg.credentialKinds()),
		zap.Bool("per_organization", s.cfg.PerOrganization))
	return nil
}

// newLimiter paces calls at rps without bursts: ZITADEL Cloud's limit is a
// rate over every second.
func newLimiter(rps float64) *rate.Limiter { return rate.NewLimiter(rate.Limit(rps), 1) }

// credentials builds the token source of the configured kind; nil when an
// `auth` extension authenticates the calls.
func (s *source) credentials(ctx context.Context) (credentials, error) {
	issuer := s.cfg.Issuer
	if issuer == "" {
		issuer = derivedIssuer(s.cfg.Endpoint, s.cfg.TLS.Insecure)
	}
	switch {
	case s.cfg.Token != "" || s.cfg.TokenFile != "":
		return &patCredentials{inline: string(s.cfg.Token), file: s.cfg.TokenFile}, nil
	case s.cfg.KeyFile != "":
		tlsCfg, err := s.cfg.TLS.LoadTLSConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("api: tls: %w", err)
		}
		tokenURL := s.cfg.TokenURL
		if tokenURL == "" {
			tokenURL = issuer + "/oauth/v2/token"
		}
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.TLSClientConfig = tlsCfg
		// No redirect is followed: it would carry the signed assertion, good
		// for an hour, to wherever the answer points.
		s.httpClient = &http.Client{
			Transport: transport, Timeout: s.cfg.RequestTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		return &jwtProfileCredentials{
			keyFile:  s.cfg.KeyFile,
			audience: issuer,
			tokenURL: tokenURL,
			client:   s.httpClient,
			now:      s.now,
		}, nil
	case s.cfg.SystemUser.UserID != "":
		return &systemUserCredentials{
			userID:   s.cfg.SystemUser.UserID,
			keyFile:  s.cfg.SystemUser.KeyFile,
			audience: issuer,
			now:      s.now,
		}, nil
	}
	return nil, nil
}

func (s *source) instanceMode() string {
	switch {
	case s.cfg.Instances.Discover:
		return "discover"
	case len(s.cfg.Instances.Hosts) > 0:
		return "hosts"
	}
	return "endpoint"
}

// Scrape counts every planned resource of every instance. Failures are
// folded into one partial scrape error; everything else is still recorded.
func (s *source) Scrape(ctx context.Context, rec model.Recorder) error {
	if s.client == nil {
		return errors.New("api source: not started")
	}
	if s.client.creds != nil {
		s.client.creds.reload()
	}
	r := newScrapeRun(ctx, s, rec)
	r.walk()
	r.scrapeActivity()
	return r.finish()
}

func (s *source) Shutdown(ctx context.Context) error {
	storeErr := s.activity.Shutdown(ctx)
	if s.httpClient != nil {
		s.httpClient.CloseIdleConnections()
	}
	if s.conn == nil {
		return storeErr
	}
	err := s.conn.Close()
	s.conn, s.client = nil, nil
	return errors.Join(storeErr, err)
}
