package gen_test

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The official descriptors come from @zitadel/proto 1.3.1, the newest version on
// npm. A few elements we call are newer than that package; each is pinned here
// with where it comes from, and checked as closely as the package allows.

// renamedFiles are ours in a package the official set has only under an older
// name. action v2 (ZITADEL v4) is action v2beta promoted with the same messages
// and field numbers, so ours is checked against v2beta with the packages renamed.
var renamedFiles = map[string]struct {
	official string
	packages map[string]string // ours -> official
}{
	"zitadel/action/v2/action_service.proto": {
		official: "zitadel/action/v2beta/action_service.proto",
		packages: map[string]string{"zitadel.action.v2": "zitadel.action.v2beta", "zitadel.filter.v2": "zitadel.filter.v2beta"},
	},
}

// newerThanOfficial are the differences that exist only because the element is
// newer than the package. Each must still occur: once the official set has the
// element, the pin fails and the element is checked like every other.
var newerThanOfficial = map[string]string{
	// ListSessions' filter on the expiration date, added in ZITADEL v4
	// (zitadel/zitadel#10384): field 6 of the SearchQuery oneof.
	"zitadel.session.v2.SearchQuery.expiration_date_query: field not in the official message":          "zitadel/zitadel#10384",
	"zitadel.session.v2.ExpirationDateQuery: message not in official zitadel/session/v2/session.proto": "zitadel/zitadel#10384",
}

// renamedForComparison returns our file with its packages renamed to the
// official ones, or ours unchanged when it is not renamed.
func renamedForComparison(ours *descriptorpb.FileDescriptorProto) (*descriptorpb.FileDescriptorProto, string) {
	r, ok := renamedFiles[ours.GetName()]
	if !ok {
		return ours, ours.GetName()
	}
	fd := proto.Clone(ours).(*descriptorpb.FileDescriptorProto)
	fd.Name = proto.String(r.official)
	fd.Package = proto.String(r.packages[fd.GetPackage()])
	rename := func(typeName *string) {
		if typeName == nil {
			return
		}
		for from, to := range r.packages {
			if strings.HasPrefix(*typeName, "."+from+".") {
				*typeName = "." + to + strings.TrimPrefix(*typeName, "."+from)
				return
			}
		}
	}
	var renameMessage func(m *descriptorpb.DescriptorProto)
	renameMessage = func(m *descriptorpb.DescriptorProto) {
		for _, f := range m.Field {
			rename(f.TypeName)
		}
		for _, n := range m.NestedType {
			renameMessage(n)
		}
	}
	for _, m := range fd.MessageType {
		renameMessage(m)
	}
	for _, s := range fd.Service {
		for _, m := range s.Method {
			rename(m.InputType)
			rename(m.OutputType)
		}
	}
	return fd, r.official
}
