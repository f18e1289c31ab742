// Package zitadelreceiver exposes the `zitadel` receiver to ocb, which imports
// one package per component and calls its NewFactory.
package zitadelreceiver
