package zitadelapi

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc/codes"
)

// methodCode are the attributes of a counted call: its gRPC method and the
// code ZITADEL answered.
func methodCode(method string, code codes.Code) metric.MeasurementOption {
	return metric.WithAttributes(attribute.String("method", method), attribute.String("code", code.String()))
}
