// Package wirespec is what ZITADEL and the Connect protocol define for the
// telemetry wire, taken from their sources and not from this module's client
// or reference endpoint, so that tests hold both against it: a wrong name on
// one side cannot be mirrored on the other.
package wirespec

import (
	"fmt"
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// SetFile is the descriptor set's file name under the repository's testdata.
const SetFile = "zitadel-proto-1.3.1.binpb"

// TelemetryService is the service ZITADEL reports its usage to.
const TelemetryService = "zitadel.analytics.v2beta.TelemetryService"

// ReadDescriptors reads and resolves ZITADEL's official descriptor set at
// path, built from the npm package @zitadel/proto by `make descriptors`.
func ReadDescriptors(path string) (*protoregistry.Files, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (rebuild it with `make descriptors`)", err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(data, set); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("%s does not resolve: %w", path, err)
	}
	return files, nil
}

// MethodPaths returns the path of every method of service, by method name:
// "/<package>.<Service>/<Method>", as gRPC and Connect address it.
func MethodPaths(files *protoregistry.Files, service string) (map[string]string, error) {
	d, err := files.FindDescriptorByName(protoreflect.FullName(service))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", service, err)
	}
	sd, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", service)
	}
	paths := make(map[string]string, sd.Methods().Len())
	for i := range sd.Methods().Len() {
		m := sd.Methods().Get(i)
		paths[string(m.Name())] = "/" + string(sd.FullName()) + "/" + string(m.Name())
	}
	return paths, nil
}
