// Package zitadelexporter exposes the `zitadeltelemetry` exporter to ocb, which
// imports one package per component and calls its NewFactory.
package zitadelexporter
