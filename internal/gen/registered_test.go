package gen_test

// One blank import per generated package registers its files in protoregistry.GlobalFiles,
// where the conformance test finds them. TestEveryProtoIsRegistered fails when one is missing.
import (
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/action/v2"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/event"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/filter/v2"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/idp"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/instance"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/milestone/v1"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object/v2"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/org"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/org/v2"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/policy"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/project"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/session/v2"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/system"
	_ "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
)
