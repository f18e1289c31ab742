package gen_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

const (
	telemetryFile        = "zitadel/analytics/v2beta/telemetry.proto"
	telemetryServiceFile = "zitadel/analytics/v2beta/telemetry_service.proto"
)

// TestDescriptorDiffsReportEachDifference breaks a copy of our telemetry files in one way
// each and expects descriptorDiffs to report exactly that, against the official descriptors.
func TestDescriptorDiffsReportEachDifference(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		mutate func(fd *descriptorpb.FileDescriptorProto)
		want   []string
	}{
		{
			name:   "unchanged",
			file:   telemetryFile,
			mutate: func(*descriptorpb.FileDescriptorProto) {},
		},
		{
			name: "a subset of the official fields is fine",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				m := message(t, fd, "ResourceCount")
				m.Field = m.Field[:2]
			},
		},
		{
			name: "field number",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				field(t, fd, "ResourceCount", "amount").Number = proto.Int32(10)
			},
			want: []string{"zitadel.analytics.v2beta.ResourceCount.amount: number 10, official 9"},
		},
		{
			name: "field type",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				field(t, fd, "ResourceCount", "amount").Type = descriptorpb.FieldDescriptorProto_TYPE_UINT64.Enum()
			},
			want: []string{"zitadel.analytics.v2beta.ResourceCount.amount: type uint64, official uint32"},
		},
		{
			name: "field type name",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				field(t, fd, "ResourceCount", "updated_at").TypeName = proto.String(".google.protobuf.Duration")
			},
			want: []string{"zitadel.analytics.v2beta.ResourceCount.updated_at: type_name .google.protobuf.Duration, official .google.protobuf.Timestamp"},
		},
		{
			name: "field label",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				field(t, fd, "InstanceInformation", "domains").Label = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
			},
			want: []string{"zitadel.analytics.v2beta.InstanceInformation.domains: label optional, official repeated"},
		},
		{
			name: "proto3 optional added",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				field(t, fd, "ResourceCount", "parent_id").Proto3Optional = proto.Bool(true)
			},
			want: []string{"zitadel.analytics.v2beta.ResourceCount.parent_id: proto3_optional true, official false"},
		},
		{
			name: "proto3 optional dropped",
			file: telemetryServiceFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				field(t, fd, "ReportResourceCountsRequest", "report_id").Proto3Optional = nil
			},
			want: []string{"zitadel.analytics.v2beta.ReportResourceCountsRequest.report_id: proto3_optional false, official true"},
		},
		{
			name: "json name",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				field(t, fd, "ResourceCount", "instance_id").JsonName = proto.String("instance_id")
			},
			want: []string{"zitadel.analytics.v2beta.ResourceCount.instance_id: json_name instance_id, official instanceId"},
		},
		{
			name: "field not official",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				m := message(t, fd, "ResourceCount")
				m.Field = append(m.Field, &descriptorpb.FieldDescriptorProto{
					Name:   proto.String("organization_id"),
					Number: proto.Int32(10),
					Type:   descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(),
					Label:  descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
				})
			},
			want: []string{"zitadel.analytics.v2beta.ResourceCount.organization_id: field not in the official message"},
		},
		{
			name: "nested message not official",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				m := message(t, fd, "ResourceCount")
				m.NestedType = append(m.NestedType, &descriptorpb.DescriptorProto{Name: proto.String("Counts")})
			},
			want: []string{"zitadel.analytics.v2beta.ResourceCount.Counts: message not in official " + telemetryFile},
		},
		{
			name: "enum value number",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				fd.EnumType[0].Value[2].Number = proto.Int32(3)
			},
			want: []string{"zitadel.analytics.v2beta.CountParentType.COUNT_PARENT_TYPE_ORGANIZATION: number 3, official 2"},
		},
		{
			name: "enum value not official",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				fd.EnumType[0].Value = append(fd.EnumType[0].Value, &descriptorpb.EnumValueDescriptorProto{
					Name: proto.String("COUNT_PARENT_TYPE_PROJECT"), Number: proto.Int32(3),
				})
			},
			want: []string{"zitadel.analytics.v2beta.CountParentType.COUNT_PARENT_TYPE_PROJECT: value not in the official enum"},
		},
		{
			name: "enum not official",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				fd.EnumType[0].Name = proto.String("ParentType")
			},
			want: []string{"zitadel.analytics.v2beta.ParentType: enum not in official " + telemetryFile},
		},
		{
			name: "method input type",
			file: telemetryServiceFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				method(t, fd, "ReportResourceCounts").InputType = proto.String(".zitadel.analytics.v2beta.ReportBaseInformationRequest")
			},
			want: []string{"zitadel.analytics.v2beta.TelemetryService.ReportResourceCounts: input_type .zitadel.analytics.v2beta.ReportBaseInformationRequest, official .zitadel.analytics.v2beta.ReportResourceCountsRequest"},
		},
		{
			name: "method output type and streaming",
			file: telemetryServiceFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				m := method(t, fd, "ReportBaseInformation")
				m.OutputType = proto.String(".zitadel.analytics.v2beta.ReportResourceCountsResponse")
				m.ClientStreaming = proto.Bool(true)
				m.ServerStreaming = proto.Bool(true)
			},
			want: []string{
				"zitadel.analytics.v2beta.TelemetryService.ReportBaseInformation: output_type .zitadel.analytics.v2beta.ReportResourceCountsResponse, official .zitadel.analytics.v2beta.ReportBaseInformationResponse",
				"zitadel.analytics.v2beta.TelemetryService.ReportBaseInformation: client_streaming true, official false",
				"zitadel.analytics.v2beta.TelemetryService.ReportBaseInformation: server_streaming true, official false",
			},
		},
		{
			name: "method not official",
			file: telemetryServiceFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				method(t, fd, "ReportBaseInformation").Name = proto.String("ReportUsage")
			},
			want: []string{"zitadel.analytics.v2beta.TelemetryService.ReportUsage: method not in the official service"},
		},
		{
			name:   "service not official",
			file:   telemetryServiceFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) { fd.Service[0].Name = proto.String("UsageService") },
			want:   []string{"zitadel.analytics.v2beta.UsageService: service not in official " + telemetryServiceFile},
		},
		{
			name:   "package",
			file:   telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) { fd.Package = proto.String("zitadel.analytics.v2") },
			want:   []string{telemetryFile + ": package zitadel.analytics.v2, official zitadel.analytics.v2beta"},
		},
		{
			name:   "syntax",
			file:   telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) { fd.Syntax = nil },
			want:   []string{telemetryFile + ": syntax proto2, official proto3"},
		},
		{
			name: "every difference at once",
			file: telemetryFile,
			mutate: func(fd *descriptorpb.FileDescriptorProto) {
				field(t, fd, "InstanceInformation", "id").Number = proto.Int32(4)
				field(t, fd, "ResourceCount", "amount").Type = descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()
				fd.EnumType[0].Value[1].Number = proto.Int32(5)
			},
			want: []string{
				"zitadel.analytics.v2beta.InstanceInformation.id: number 4, official 1",
				"zitadel.analytics.v2beta.ResourceCount.amount: type int64, official uint32",
				"zitadel.analytics.v2beta.CountParentType.COUNT_PARENT_TYPE_INSTANCE: number 5, official 1",
			},
		},
	}
	official := loadOfficialFiles(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours := ourFile(t, tt.file)
			tt.mutate(ours)
			assert.Equal(t, tt.want, descriptorDiffs(ours, official[tt.file]))
		})
	}
}

func TestDescriptorDiffsReportAFileMissingOfficially(t *testing.T) {
	ours := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("zitadel/analytics/v2beta/usage.proto"),
		Package: proto.String("zitadel.analytics.v2beta"),
	}
	assert.Equal(t, []string{"zitadel/analytics/v2beta/usage.proto: file not in the official descriptors"},
		descriptorDiffs(ours, nil))
}

func message(t *testing.T, fd *descriptorpb.FileDescriptorProto, name string) *descriptorpb.DescriptorProto {
	t.Helper()
	for _, m := range fd.MessageType {
		if m.GetName() == name {
			return m
		}
	}
	require.FailNow(t, "no message "+name+" in "+fd.GetName())
	return nil
}

func field(t *testing.T, fd *descriptorpb.FileDescriptorProto, messageName, fieldName string) *descriptorpb.FieldDescriptorProto {
	t.Helper()
	for _, f := range message(t, fd, messageName).Field {
		if f.GetName() == fieldName {
			return f
		}
	}
	require.FailNow(t, "no field "+messageName+"."+fieldName+" in "+fd.GetName())
	return nil
}

func method(t *testing.T, fd *descriptorpb.FileDescriptorProto, name string) *descriptorpb.MethodDescriptorProto {
	t.Helper()
	for _, s := range fd.Service {
		for _, m := range s.Method {
			if m.GetName() == name {
				return m
			}
		}
	}
	require.FailNow(t, "no method "+name+" in "+fd.GetName())
	return nil
}
