package gen_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// officialSetPath is ZITADEL's descriptor set, rebuilt by `make descriptors` from the npm
// package @zitadel/proto (see docs/proto-conformance.md).
const officialSetPath = "../../testdata/zitadel-proto-1.3.1.binpb"

// protoRoot holds the .proto files that `make generate` compiles into this directory.
const protoRoot = "../../proto"

// TestOursMatchOfficialDescriptors checks every zitadel/** file compiled into this module
// against the file with the same path in ZITADEL's official descriptors.
func TestOursMatchOfficialDescriptors(t *testing.T) {
	official := loadOfficialFiles(t)
	ours := ourZitadelFiles()
	if len(ours) == 0 {
		t.Fatal("no zitadel/** files are registered: the generated packages are not imported")
	}
	pinned := map[string]bool{}
	for _, fd := range ours {
		compared, officialPath := renamedForComparison(fd)
		for _, diff := range descriptorDiffs(compared, official[officialPath]) {
			if _, ok := newerThanOfficial[diff]; ok {
				pinned[diff] = true
				continue
			}
			t.Error(diff)
		}
	}
	for diff, source := range newerThanOfficial {
		if !pinned[diff] {
			t.Errorf("pinned as newer than the official set (%s) but no longer differs: remove the pin so it is checked: %s", source, diff)
		}
	}
}

// TestEveryProtoIsRegistered keeps the conformance test from silently skipping a file: every
// proto/zitadel/** file must be registered through an import in registered_test.go.
func TestEveryProtoIsRegistered(t *testing.T) {
	root := filepath.Join(protoRoot, "zitadel")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".proto") {
			return err
		}
		rel, err := filepath.Rel(protoRoot, path)
		if err != nil {
			return err
		}
		if _, err := protoregistry.GlobalFiles.FindFileByPath(filepath.ToSlash(rel)); err != nil {
			t.Errorf("%s is not registered: run `make generate` and add a blank import of its Go package to registered_test.go", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOfficialSetResolves guards the stored set itself: every import and type reference must
// resolve, which fails if the extraction lost dependencies or files.
func TestOfficialSetResolves(t *testing.T) {
	set := readOfficialSet(t)
	files, err := protodesc.NewFiles(set)
	if err != nil {
		t.Fatalf("%s does not resolve: %v", officialSetPath, err)
	}
	const service = "zitadel.analytics.v2beta.TelemetryService"
	if _, err := files.FindDescriptorByName(service); err != nil {
		t.Errorf("%s: %s: %v", officialSetPath, service, err)
	}
}

func readOfficialSet(t *testing.T) *descriptorpb.FileDescriptorSet {
	t.Helper()
	data, err := os.ReadFile(officialSetPath)
	if err != nil {
		t.Fatalf("%v (rebuild it with `make descriptors`)", err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(data, set); err != nil {
		t.Fatalf("%s: %v", officialSetPath, err)
	}
	return set
}

func loadOfficialFiles(t *testing.T) map[string]*descriptorpb.FileDescriptorProto {
	t.Helper()
	files := map[string]*descriptorpb.FileDescriptorProto{}
	for _, fd := range readOfficialSet(t).File {
		files[fd.GetName()] = fd
	}
	return files
}

// ourZitadelFiles returns the registered zitadel/** files, sorted by path.
func ourZitadelFiles() []*descriptorpb.FileDescriptorProto {
	var files []*descriptorpb.FileDescriptorProto
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(fd.Path(), "zitadel/") {
			files = append(files, protodesc.ToFileDescriptorProto(fd))
		}
		return true
	})
	sort.Slice(files, func(i, j int) bool { return files[i].GetName() < files[j].GetName() })
	return files
}

// ourFile returns one registered file of ours as a descriptor proto.
func ourFile(t *testing.T, path string) *descriptorpb.FileDescriptorProto {
	t.Helper()
	fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return protodesc.ToFileDescriptorProto(fd)
}
