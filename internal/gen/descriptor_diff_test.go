package gen_test

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/descriptorpb"
)

// descriptorDiffs lists every element of ours that is absent from official or differs from it
// on the wire (binary or protojson). Elements that only official has are fine: our files are
// subsets. Each difference names the element, e.g.
// "zitadel.analytics.v2beta.ResourceCount.amount: number 10, official 9".
func descriptorDiffs(ours, official *descriptorpb.FileDescriptorProto) []string {
	file := ours.GetName()
	if official == nil {
		return []string{file + ": file not in the official descriptors"}
	}
	if ours.GetPackage() != official.GetPackage() {
		// Every full name below depends on the package, so further differences would be noise.
		return []string{fmt.Sprintf("%s: package %s, official %s", file, ours.GetPackage(), official.GetPackage())}
	}
	d := &differ{official: indexFile(official), file: file}
	if syntaxOf(ours) != syntaxOf(official) {
		d.add(file, "syntax %s, official %s", syntaxOf(ours), syntaxOf(official))
	}
	scope := ours.GetPackage()
	for _, m := range ours.MessageType {
		d.message(scope, m)
	}
	for _, e := range ours.EnumType {
		d.enum(scope, e)
	}
	for _, x := range ours.Extension {
		d.extension(scope, x)
	}
	for _, s := range ours.Service {
		d.service(scope, s)
	}
	return d.diffs
}

// officialIndex holds an official file's elements by full name.
type officialIndex struct {
	messages   map[string]*descriptorpb.DescriptorProto
	enums      map[string]*descriptorpb.EnumDescriptorProto
	extensions map[string]*descriptorpb.FieldDescriptorProto
	services   map[string]*descriptorpb.ServiceDescriptorProto
}

func indexFile(fd *descriptorpb.FileDescriptorProto) officialIndex {
	idx := officialIndex{
		messages:   map[string]*descriptorpb.DescriptorProto{},
		enums:      map[string]*descriptorpb.EnumDescriptorProto{},
		extensions: map[string]*descriptorpb.FieldDescriptorProto{},
		services:   map[string]*descriptorpb.ServiceDescriptorProto{},
	}
	var addMessage func(scope string, m *descriptorpb.DescriptorProto)
	addMessage = func(scope string, m *descriptorpb.DescriptorProto) {
		name := fullName(scope, m.GetName())
		idx.messages[name] = m
		for _, nested := range m.NestedType {
			addMessage(name, nested)
		}
		for _, e := range m.EnumType {
			idx.enums[fullName(name, e.GetName())] = e
		}
		for _, x := range m.Extension {
			idx.extensions[fullName(name, x.GetName())] = x
		}
	}
	scope := fd.GetPackage()
	for _, m := range fd.MessageType {
		addMessage(scope, m)
	}
	for _, e := range fd.EnumType {
		idx.enums[fullName(scope, e.GetName())] = e
	}
	for _, x := range fd.Extension {
		idx.extensions[fullName(scope, x.GetName())] = x
	}
	for _, s := range fd.Service {
		idx.services[fullName(scope, s.GetName())] = s
	}
	return idx
}

type differ struct {
	official officialIndex
	file     string
	diffs    []string
}

func (d *differ) add(element, format string, args ...any) {
	d.diffs = append(d.diffs, element+": "+fmt.Sprintf(format, args...))
}

func (d *differ) message(scope string, m *descriptorpb.DescriptorProto) {
	name := fullName(scope, m.GetName())
	off, ok := d.official.messages[name]
	if !ok {
		d.add(name, "message not in official %s", d.file)
		return
	}
	offFields := map[string]*descriptorpb.FieldDescriptorProto{}
	for _, f := range off.Field {
		offFields[f.GetName()] = f
	}
	for _, f := range m.Field {
		fieldName := fullName(name, f.GetName())
		offField, ok := offFields[f.GetName()]
		if !ok {
			d.add(fieldName, "field not in the official message")
			continue
		}
		d.field(fieldName, f, offField)
	}
	for _, nested := range m.NestedType {
		d.message(name, nested)
	}
	for _, e := range m.EnumType {
		d.enum(name, e)
	}
	for _, x := range m.Extension {
		d.extension(name, x)
	}
}

// field compares what decides the binary and JSON encoding of a field.
func (d *differ) field(name string, ours, off *descriptorpb.FieldDescriptorProto) {
	if ours.GetNumber() != off.GetNumber() {
		d.add(name, "number %d, official %d", ours.GetNumber(), off.GetNumber())
	}
	if ours.GetType() != off.GetType() {
		d.add(name, "type %s, official %s", typeName(ours.GetType()), typeName(off.GetType()))
	}
	if ours.GetTypeName() != off.GetTypeName() {
		d.add(name, "type_name %s, official %s", ours.GetTypeName(), off.GetTypeName())
	}
	if ours.GetLabel() != off.GetLabel() {
		d.add(name, "label %s, official %s", labelName(ours.GetLabel()), labelName(off.GetLabel()))
	}
	if ours.GetProto3Optional() != off.GetProto3Optional() {
		d.add(name, "proto3_optional %t, official %t", ours.GetProto3Optional(), off.GetProto3Optional())
	}
	if ours.GetExtendee() != off.GetExtendee() {
		d.add(name, "extendee %s, official %s", ours.GetExtendee(), off.GetExtendee())
	}
	if jsonName(ours) != jsonName(off) {
		d.add(name, "json_name %s, official %s", jsonName(ours), jsonName(off))
	}
}

func (d *differ) extension(scope string, x *descriptorpb.FieldDescriptorProto) {
	name := fullName(scope, x.GetName())
	off, ok := d.official.extensions[name]
	if !ok {
		d.add(name, "extension not in official %s", d.file)
		return
	}
	d.field(name, x, off)
}

func (d *differ) enum(scope string, e *descriptorpb.EnumDescriptorProto) {
	name := fullName(scope, e.GetName())
	off, ok := d.official.enums[name]
	if !ok {
		d.add(name, "enum not in official %s", d.file)
		return
	}
	offNumbers := map[string]int32{}
	for _, v := range off.Value {
		offNumbers[v.GetName()] = v.GetNumber()
	}
	for _, v := range e.Value {
		valueName := fullName(name, v.GetName())
		offNumber, ok := offNumbers[v.GetName()]
		switch {
		case !ok:
			d.add(valueName, "value not in the official enum")
		case v.GetNumber() != offNumber:
			d.add(valueName, "number %d, official %d", v.GetNumber(), offNumber)
		}
	}
}

func (d *differ) service(scope string, s *descriptorpb.ServiceDescriptorProto) {
	name := fullName(scope, s.GetName())
	off, ok := d.official.services[name]
	if !ok {
		d.add(name, "service not in official %s", d.file)
		return
	}
	offMethods := map[string]*descriptorpb.MethodDescriptorProto{}
	for _, m := range off.Method {
		offMethods[m.GetName()] = m
	}
	for _, m := range s.Method {
		methodName := fullName(name, m.GetName())
		offMethod, ok := offMethods[m.GetName()]
		if !ok {
			d.add(methodName, "method not in the official service")
			continue
		}
		if m.GetInputType() != offMethod.GetInputType() {
			d.add(methodName, "input_type %s, official %s", m.GetInputType(), offMethod.GetInputType())
		}
		if m.GetOutputType() != offMethod.GetOutputType() {
			d.add(methodName, "output_type %s, official %s", m.GetOutputType(), offMethod.GetOutputType())
		}
		if m.GetClientStreaming() != offMethod.GetClientStreaming() {
			d.add(methodName, "client_streaming %t, official %t", m.GetClientStreaming(), offMethod.GetClientStreaming())
		}
		if m.GetServerStreaming() != offMethod.GetServerStreaming() {
			d.add(methodName, "server_streaming %t, official %t", m.GetServerStreaming(), offMethod.GetServerStreaming())
		}
	}
}

func fullName(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + "." + name
}

// syntaxOf reads an absent syntax as proto2, as protoc does.
func syntaxOf(fd *descriptorpb.FileDescriptorProto) string {
	if fd.GetSyntax() == "" {
		return "proto2"
	}
	return fd.GetSyntax()
}

func typeName(t descriptorpb.FieldDescriptorProto_Type) string {
	return strings.ToLower(strings.TrimPrefix(t.String(), "TYPE_"))
}

func labelName(l descriptorpb.FieldDescriptorProto_Label) string {
	return strings.ToLower(strings.TrimPrefix(l.String(), "LABEL_"))
}

// jsonName is the field's protojson key: the explicit json_name, else protoc's default.
func jsonName(f *descriptorpb.FieldDescriptorProto) string {
	if f.JsonName != nil {
		return f.GetJsonName()
	}
	var b strings.Builder
	upperNext := false
	for _, r := range f.GetName() {
		switch {
		case r == '_':
			upperNext = true
		case upperNext && r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			upperNext = false
		default:
			b.WriteRune(r)
			upperNext = false
		}
	}
	return b.String()
}
