#!/usr/bin/env node
// A stand-in for grpcurl v1.8.7 (not installable on Debian 12 or from npm)
// with the subset of its command line the docs use. It prints what the real
// grpcurl prints (tests/interop/grpcurl-reference.md, checked by
// grpcurl_reference_test.js), because it works the way grpcurl does:
//
// - Every descriptor comes from the server's reflection service: the file
//   containing a symbol, then the files it imports. Nothing about magiclink
//   (or google.rpc) is compiled in.
// - Output is jhump/protoreflect's dynamic-message JSON: fields in field-number
//   order, named by the served descriptor's json_name or, when it has none (as
//   magiclinkd serves them), the proto field name; 64-bit integers as strings;
//   fields at their default left out (`{` newline, indent, newline `}` for an
//   empty message); Go's JSON string escaping.
// - `-d` accepts proto field names and lowerCamelCase.
// - `list` and `list SERVICE` print sorted names.
// - A failed call prints ERROR / Code / Message / Details on stderr and exits
//   with 64 + the code. Each `google.protobuf.Any` detail is decoded only if
//   reflection serves its type (file containing the symbol, then the type's
//   extension numbers, as protoreflect asks); otherwise it prints
//   {"@error":"<type> is not recognized; ...","@type":...,"@value":<base64>}.
//   Either way a detail is one compact line with its top-level keys sorted, as
//   golang/protobuf's jsonpb re-marshals an Any.
// - `describe` shows the element with its doc comments (methods sorted by
//   name, fields in number order, types fully qualified); its layout is close
//   to, not byte-for-byte, grpcurl's protoprint output.
//
//   node grpcurl.js [-plaintext] [-H 'name: value']... [-d JSON|@] [-emit-defaults]
//                   ADDRESS (list [SERVICE] | describe [SYMBOL] | SERVICE/METHOD)
//
// Only unary methods are supported. Exit status: 0 ok, 64 + code for a failed
// call, 1 for other failures, 2 for usage errors (as grpcurl).
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const { GrpcReflection } = require('grpc-js-reflection-client');

// The protobufjs the reflection client builds with (8.x): unlike 7.x, its
// Root.fromDescriptor turns map entries back into map fields.
const fromReflectionClient = (name) => require(require.resolve(name, {
  paths: [path.dirname(require.resolve('grpc-js-reflection-client'))] }));
const protobuf = fromReflectionClient('protobufjs');
const descriptor = fromReflectionClient('protobufjs/ext/descriptor');

const STATUS_CODE_OFFSET = 64;
const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound',
                    'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition',
                    'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss',
                    'Unauthenticated'];

class UsageError extends Error {}
// A failure grpcurl reports as "<what>: <error>" with exit status 1.
class Failure extends Error {}

function parseArgs(argv) {
  const options = { plaintext: false, headers: [], data: undefined, emitDefaults: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const flag = arg.replace(/^--?/, '-');
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    if (!arg.startsWith('-') || arg === '-') positional.push(arg);
    else if (flag === '-plaintext') options.plaintext = true;
    else if (flag === '-emit-defaults') options.emitDefaults = true;
    else if (flag === '-H' || flag === '-rpc-header') options.headers.push(value());
    else if (flag === '-d') options.data = value();
    else if (flag.startsWith('-d=')) options.data = arg.slice(arg.indexOf('=') + 1);
    else throw new UsageError(`unsupported flag ${arg}`);
  }
  if (positional.length < 2) throw new UsageError('need ADDRESS and a verb or method');
  [options.address, options.verb, ...options.rest] = positional;
  return options;
}

function metadataFrom(headers) {
  const metadata = new grpc.Metadata();
  for (const header of headers) {
    const colon = header.indexOf(':');
    if (colon <= 0) throw new UsageError(`header "${header}" is not "name: value"`);
    metadata.add(header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim());
  }
  return metadata;
}

// ---------------------------------------------------------------------------
// Reflection: descriptors as grpcurl's reflection client gets them.

const strip = (name) => name.replace(/^\./, '');

class Reflector {
  constructor(address, credentials, metadata) {
    this.client = new GrpcReflection(address, credentials);
    this.metadata = metadata;
    this.files = new Map();  // name -> decoded FileDescriptorProto
  }

  async listServices() {
    return this.client.listServices('*', this.metadata);
  }

  addFiles(serialized) {
    const names = [];
    for (const bytes of serialized) {
      const file = descriptor.FileDescriptorProto.decode(bytes);
      if (!this.files.has(file.name)) this.files.set(file.name, file);
      names.push(file.name);
    }
    return names;
  }

  async loadImports(name) {
    for (const dep of this.files.get(name).dependency || []) {
      if (!this.files.has(dep)) {
        const bytes = await this.client.getProtoDescriptorByFileName(dep, this.metadata);
        this.addFiles(bytes);
        if (!this.files.has(dep)) throw new Failure(`File not found: ${dep}`);
      }
      await this.loadImports(dep);
    }
  }

  // The protobufjs reflection object for `symbol` (a service, method, message
  // or enum), fetched with the file that contains it and that file's imports.
  async findSymbol(symbol) {
    let names;
    try {
      names = this.addFiles(await this.client.getProtoDescriptorBySymbol(symbol, this.metadata));
    } catch (e) {
      throw new Failure(`Symbol not found: ${symbol} (${e.message})`);
    }
    if (names.length === 0) throw new Failure(`Symbol not found: ${symbol}`);
    await this.loadImports(names[0]);
    const root = protobuf.Root.fromDescriptor(
      descriptor.FileDescriptorSet.create({ file: [...this.files.values()] }));
    root.resolveAll();
    const found = root.lookup(symbol);
    if (!found) throw new Failure(`Symbol not found: ${symbol}`);
    return found;
  }

  // What protoreflect's anyResolver does for an Any's type: the message, then
  // its extension numbers. Throws if either step fails.
  async resolveAnyType(typeName) {
    const type = await this.findSymbol(typeName);
    if (type.fields === undefined) throw new Failure(`unknown message: ${typeName}`);
    await this.client.getAllExtensionNumbersOfType(typeName, this.metadata);
    return type;
  }

  // The json_name the served descriptor gives a field ('' when it has none).
  jsonNameOf(field) {
    const file = this.fileDefining(field.parent);
    const proto = file && findMessageProto(file, strip(field.parent.fullName));
    const fieldProto = proto && (proto.field || []).find((f) => f.name === field.name);
    return (fieldProto && fieldProto.jsonName) || '';
  }

  fileDefining(reflected) {
    const name = strip(reflected.fullName);
    for (const file of this.files.values()) {
      const prefix = file.package ? `${file.package}.` : '';
      if (!name.startsWith(prefix)) continue;
      if (findMessageProto(file, name) || findPath(file, name)) return file;
    }
    return undefined;
  }

  // Leading comments of `reflected` from the file's source info, or ''.
  commentOf(reflected) {
    const file = this.fileDefining(reflected);
    const path = file && findPath(file, strip(reflected.fullName));
    if (!path || !file.sourceCodeInfo) return '';
    const location = (file.sourceCodeInfo.location || []).find(
      (l) => l.path.length === path.length && l.path.every((p, i) => p === path[i]));
    return location && location.leadingComments ? location.leadingComments.replace(/\n$/, '') : '';
  }
}

function findMessageProto(file, fullName) {
  const path = findPath(file, fullName);
  if (!path || path[0] !== 4 || path.length % 2 !== 0) return undefined;
  let node = file.messageType[path[1]];
  for (let i = 2; i < path.length; i += 2) {
    if (path[i] !== 3) return undefined;
    node = node.nestedType[path[i + 1]];
  }
  return node;
}

// The source-info path of a named element of `file` (see descriptor.proto:
// 4 message_type, 5 enum_type, 6 service; inside them 2 field / value /
// method, 3 nested_type, 4 nested enum_type).
function findPath(file, fullName) {
  const prefix = file.package ? `${file.package}.` : '';
  if (!fullName.startsWith(prefix)) return undefined;
  const parts = fullName.slice(prefix.length).split('.');
  const inMessage = (message, rest, path) => {
    if (rest.length === 0) return path;
    const [head, ...tail] = rest;
    const nested = (message.nestedType || []).findIndex((m) => m.name === head);
    if (nested >= 0) return inMessage(message.nestedType[nested], tail, [...path, 3, nested]);
    const en = (message.enumType || []).findIndex((e) => e.name === head);
    if (en >= 0) return inEnum(message.enumType[en], tail, [...path, 4, en]);
    const field = (message.field || []).findIndex((f) => f.name === head);
    if (field >= 0 && tail.length === 0) return [...path, 2, field];
    return undefined;
  };
  const inEnum = (en, rest, path) => {
    if (rest.length === 0) return path;
    const value = (en.value || []).findIndex((v) => v.name === rest[0]);
    return value >= 0 && rest.length === 1 ? [...path, 2, value] : undefined;
  };
  const [head, ...tail] = parts;
  const message = (file.messageType || []).findIndex((m) => m.name === head);
  if (message >= 0) return inMessage(file.messageType[message], tail, [4, message]);
  const en = (file.enumType || []).findIndex((e) => e.name === head);
  if (en >= 0) return inEnum(file.enumType[en], tail, [5, en]);
  const service = (file.service || []).findIndex((s) => s.name === head);
  if (service >= 0) {
    if (tail.length === 0) return [6, service];
    const method = (file.service[service].method || []).findIndex((m) => m.name === tail[0]);
    return method >= 0 && tail.length === 1 ? [6, service, 2, method] : undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// JSON input (-d): proto3 JSON, proto or lowerCamelCase field names.

function lowerCamel(fieldName) {
  return fieldName.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

const isMessageType = (t) => t && t.fields !== undefined;
const isEnumType = (t) => t && t.values !== undefined && t.fields === undefined;

function parseDuration(text) {
  const match = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(String(text));
  if (!match) throw new Failure(`bad Duration "${text}" (want e.g. "3600s")`);
  const sign = match[1] ? -1 : 1;
  return { seconds: String(sign * Number(match[2])),
           nanos: sign * Number((match[3] || '').padEnd(9, '0') || 0) };
}

function parseTimestamp(text) {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(String(text));
  const millis = match ? Date.parse(`${match[1]}${match[3]}`) : NaN;
  if (Number.isNaN(millis)) throw new Failure(`bad Timestamp "${text}" (want RFC 3339)`);
  return { seconds: String(Math.floor(millis / 1000)),
           nanos: Number((match[2] || '').padEnd(9, '0') || 0) };
}

// proto3 JSON -> the plain object protobufjs' fromObject takes.
function fromJson(type, json) {
  switch (type.fullName) {
    case '.google.protobuf.Duration': return parseDuration(json);
    case '.google.protobuf.Timestamp': return parseTimestamp(json);
    default: break;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Failure(`expected a JSON object for message type ${strip(type.fullName)}`);
  }
  const byName = new Map();
  for (const field of type.fieldsArray) {
    byName.set(field.name, field);
    byName.set(lowerCamel(field.name), field);
  }
  const object = {};
  for (const [key, value] of Object.entries(json)) {
    const field = byName.get(key);
    if (!field) {
      throw new Failure(`message type ${strip(type.fullName)} has no known field named ${key}`);
    }
    if (value === null) continue;
    const convert = (v) => {
      if (isMessageType(field.resolvedType)) return fromJson(field.resolvedType, v);
      if (isEnumType(field.resolvedType) && typeof v === 'string') {
        if (!(v in field.resolvedType.values)) {
          throw new Failure(`invalid value for enum ${strip(field.resolvedType.fullName)}: "${v}"`);
        }
        return field.resolvedType.values[v];
      }
      return v;
    };
    if (field.map) {
      object[field.name] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v)]));
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new Failure(`field ${key}: expected a JSON array`);
      object[field.name] = value.map(convert);
    } else {
      object[field.name] = convert(value);
    }
  }
  return object;
}

// ---------------------------------------------------------------------------
// JSON output, as jhump/protoreflect's dynamic.Message.MarshalJSONPB writes it.

// Go's json.Marshal of a string: HTML-sensitive characters and U+2028/2029
// escaped as \u00XX / \u20XX, control characters as \n, \r, \t or \u00XX.
function goJsonString(text) {
  let out = '"';
  for (const ch of String(text)) {
    const code = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || ch === '<' || ch === '>' || ch === '&' || code === 0x2028 ||
             code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

// protoreflect's indentBuffer: indent '' is the compact form.
class JsonWriter {
  constructor(indent) {
    this.text = '';
    this.indent = indent;
    this.depth = indent ? 0 : -1;
  }
  write(s) { this.text += s; }
  start() { if (this.depth >= 0) { this.depth++; this.newLine(false); } }
  end() { if (this.depth >= 0) { this.depth--; this.newLine(false); } }
  sep() { this.write(this.depth >= 0 ? ': ' : ':'); }
  next() { if (this.depth >= 0) this.newLine(true); else this.write(','); }
  newLine(comma) { this.write(`${comma ? ',' : ''}\n${this.indent.repeat(this.depth)}`); }
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function nanosText(nanos) {
  return nanos ? `.${String(nanos).padStart(9, '0').replace(/(000){1,2}$/, '')}` : '';
}

function formatTimestamp(value) {
  const seconds = Number(value.seconds || 0);
  const date = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return `${date}${nanosText(Number(value.nanos || 0))}Z`;
}

function formatDuration(value) {
  const seconds = BigInt(String(value.seconds || 0));
  const nanos = Number(value.nanos || 0);
  const negative = seconds < 0n || nanos < 0;
  const abs = seconds < 0n ? -seconds : seconds;
  return `${negative ? '-' : ''}${abs}${nanosText(Math.abs(nanos))}s`;
}

class Formatter {
  // `jsonNameOf(field)` is the served json_name, '' for none.
  constructor(jsonNameOf, emitDefaults) {
    this.jsonNameOf = jsonNameOf;
    this.emitDefaults = emitDefaults;
  }

  // A protobufjs message of `type` as grpcurl prints a response.
  format(type, message) {
    const writer = new JsonWriter('  ');
    this.message(writer, type, message);
    return writer.text;
  }

  // `{"@type": ..., fields...}` compact with the top-level keys sorted, as
  // jsonpb re-marshals a message inside an Any.
  formatAny(typeUrl, type, message) {
    const entries = [['@type', goJsonString(typeUrl)]];
    for (const [field, value] of this.presentFields(type, message)) {
      const writer = new JsonWriter('');
      this.fieldValue(writer, field, value);
      entries.push([this.nameOf(field), writer.text]);
    }
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${goJsonString(k)}:${v}`).join(',')}}`;
  }

  nameOf(field) { return this.jsonNameOf(field) || field.name; }

  presentFields(type, message) {
    const fields = [...type.fieldsArray].sort((a, b) => a.id - b.id);
    const present = [];
    for (const field of fields) {
      const value = message[field.name];
      const set = field.map ? value && Object.keys(value).length > 0
                : field.repeated ? value && value.length > 0
                : field.partOf ? message[field.partOf.name] === field.name
                : isMessageType(field.resolvedType) ? value !== null && value !== undefined
                : !isDefaultScalar(field, value);
      if (set) present.push([field, value]);
      else if (this.emitDefaults && !field.partOf) present.push([field, defaultOf(field)]);
    }
    return present;
  }

  message(writer, type, message) {
    switch (type.fullName) {
      case '.google.protobuf.Timestamp': writer.write(goJsonString(formatTimestamp(message))); return;
      case '.google.protobuf.Duration': writer.write(goJsonString(formatDuration(message))); return;
      default: break;
    }
    writer.write('{');
    writer.start();
    let first = true;
    for (const [field, value] of this.presentFields(type, message)) {
      if (!first) writer.next();
      first = false;
      writer.write(goJsonString(this.nameOf(field)));
      writer.sep();
      this.fieldValue(writer, field, value);
    }
    writer.end();
    writer.write('}');
  }

  fieldValue(writer, field, value) {
    if (value === null) { writer.write('null'); return; }
    if (field.map) {
      writer.write('{');
      writer.start();
      const keys = Object.keys(value).sort(LONG_TYPES.has(field.keyType) || /int|fixed/.test(field.keyType)
        ? (a, b) => Number(a) - Number(b) : undefined);
      keys.forEach((key, i) => {
        if (i > 0) writer.next();
        writer.write(goJsonString(key));
        writer.sep();
        this.scalar(writer, field, value[key]);
      });
      writer.end();
      writer.write('}');
    } else if (field.repeated) {
      writer.write('[');
      writer.start();
      value.forEach((item, i) => {
        if (i > 0) writer.next();
        this.scalar(writer, field, item);
      });
      writer.end();
      writer.write(']');
    } else {
      this.scalar(writer, field, value);
    }
  }

  scalar(writer, field, value) {
    if (isMessageType(field.resolvedType)) { this.message(writer, field.resolvedType, value); return; }
    if (isEnumType(field.resolvedType)) {
      const name = field.resolvedType.valuesById[value];
      writer.write(name === undefined ? String(value) : goJsonString(name));
      return;
    }
    if (LONG_TYPES.has(field.type)) { writer.write(goJsonString(String(value))); return; }
    switch (field.type) {
      case 'string': writer.write(goJsonString(value)); return;
      case 'bytes': writer.write(goJsonString(Buffer.from(value).toString('base64'))); return;
      case 'bool': writer.write(value ? 'true' : 'false'); return;
      case 'double': case 'float':
        if (Number.isNaN(value)) writer.write('"NaN"');
        else if (!Number.isFinite(value)) writer.write(value > 0 ? '"Infinity"' : '"-Infinity"');
        else writer.write(String(value));
        return;
      default: writer.write(String(value));
    }
  }
}

function isDefaultScalar(field, value) {
  if (value === undefined || value === null) return true;
  if (field.type === 'bytes') return value.length === 0;
  if (typeof value === 'bigint') return value === 0n;
  if (typeof value === 'object' && typeof value.isZero === 'function') return value.isZero();
  return value === 0 || value === '' || value === false;
}

function defaultOf(field) {
  if (field.map) return {};
  if (field.repeated) return [];
  if (isMessageType(field.resolvedType)) return null;
  if (isEnumType(field.resolvedType)) return 0;
  if (field.type === 'string') return '';
  if (field.type === 'bytes') return Buffer.alloc(0);
  if (field.type === 'bool') return false;
  return 0;
}

// ---------------------------------------------------------------------------
// Errors: grpcurl.PrintStatus.

// google.rpc.Status as grpc-go decodes grpc-status-details-bin: compiled in,
// not reflected (its Any details are resolved through reflection).
const STATUS_TYPE = protobuf.Root.fromJSON({
  nested: {
    Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
    Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 },
                        details: { rule: 'repeated', type: 'Any', id: 3 } } },
  },
}).lookupType('Status');

function unrecognizedAny(typeName, typeUrl, value) {
  const error = `${typeName} is not recognized; see @value for raw binary message data`;
  return `{"@error":${goJsonString(error)},"@type":${goJsonString(typeUrl)},` +
         `"@value":${goJsonString(Buffer.from(value).toString('base64'))}}`;
}

// The stderr text grpcurl prints for a failed call. `resolveAnyType(name)`
// returns the reflected message type or throws; `formatter` prints it.
async function statusText(code, message, detailsBin, resolveAnyType, formatter) {
  let text = `ERROR:\n  Code: ${CODE_NAMES[code] || `Code(${code})`}\n  Message: ${message}\n`;
  const details = detailsBin ? STATUS_TYPE.decode(detailsBin).details : [];
  if (details.length > 0) text += '  Details:\n';
  for (let i = 0; i < details.length; i++) {
    const { type_url: typeUrl, value } = details[i];
    const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    let line;
    try {
      const type = await resolveAnyType(typeName);
      line = formatter.formatAny(typeUrl, type, type.decode(value));
    } catch (e) {
      line = unrecognizedAny(typeName, typeUrl, value);
    }
    text += `  ${i + 1})\t${line}\n`;
  }
  return text;
}

// ---------------------------------------------------------------------------
// describe

function commentLines(comment, indent) {
  if (!comment) return [];
  return comment.split('\n').map((line) => `${indent}//${line}`.trimEnd());
}

function describe(reflector, reflected) {
  const name = strip(reflected.fullName);
  const comment = (r, indent) => commentLines(reflector.commentOf(r), indent);
  const lines = [];
  if (reflected.methods !== undefined) {
    lines.push(`${name} is a service:`, ...comment(reflected, ''), `service ${reflected.name} {`);
    const methods = [...reflected.methodsArray].sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const method of methods) {
      method.resolve();
      lines.push(...comment(method, '  '),
                 `  rpc ${method.name} ( ${method.resolvedRequestType.fullName} ) ` +
                 `returns ( ${method.resolvedResponseType.fullName} );`);
    }
    lines.push('}');
  } else if (reflected.requestType !== undefined) {
    reflected.resolve();
    lines.push(`${name} is a method:`, ...comment(reflected, ''),
               `rpc ${reflected.name} ( ${reflected.resolvedRequestType.fullName} ) ` +
               `returns ( ${reflected.resolvedResponseType.fullName} );`);
  } else if (isMessageType(reflected)) {
    lines.push(`${name} is a message:`, ...comment(reflected, ''), `message ${reflected.name} {`);
    for (const field of [...reflected.fieldsArray].sort((a, b) => a.id - b.id)) {
      const typeName = field.resolvedType ? field.resolvedType.fullName : field.type;
      const label = field.map ? `map<${field.keyType}, ${typeName}>`
                              : `${field.repeated ? 'repeated ' : ''}${typeName}`;
      lines.push(...comment(field, '  '), `  ${label} ${field.name} = ${field.id};`);
    }
    lines.push('}');
  } else if (isEnumType(reflected)) {
    lines.push(`${name} is an enum:`, ...comment(reflected, ''), `enum ${reflected.name} {`);
    for (const [valueName, number] of Object.entries(reflected.values)) {
      lines.push(`  ${valueName} = ${number};`);
    }
    lines.push('}');
  } else {
    throw new Failure(`descriptor has unrecognized type for ${name}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------

function unaryCall(client, path, requestType, responseType, request, metadata) {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path,
      (object) => Buffer.from(requestType.encode(requestType.fromObject(object)).finish()),
      (bytes) => responseType.decode(bytes),
      request, metadata, { deadline: Date.now() + 30000 },
      (error, response) => (error ? reject(error) : resolve(response)));
  });
}

async function invoke(options, reflector, credentials, metadata) {
  const symbol = options.verb;
  const split = symbol.includes('/') ? symbol.lastIndexOf('/') : symbol.lastIndexOf('.');
  if (split <= 0) throw new UsageError(`"${symbol}" is not list, describe or SERVICE/METHOD`);
  const serviceName = symbol.slice(0, split);
  const methodName = symbol.slice(split + 1);
  const failing = (what) => (e) => {
    throw new Failure(`Error invoking method "${symbol}": ${what}${e.message}`);
  };
  const service = await reflector.findSymbol(serviceName).catch(failing('target server does not expose service: '));
  const method = service.methods && service.methods[methodName];
  if (!method) {
    throw new Failure(`Error invoking method "${symbol}": service "${serviceName}" does not ` +
                      `include a method named "${methodName}"`);
  }
  if (method.requestStream || method.responseStream) throw new UsageError('only unary methods');
  method.resolve();
  const data = options.data === '@' ? fs.readFileSync(0, 'utf8') : (options.data || '{}');
  let request;
  try {
    request = fromJson(method.resolvedRequestType, JSON.parse(data));
  } catch (e) {
    failing('error getting request data: ')(e);
  }

  const formatter = new Formatter((field) => reflector.jsonNameOf(field), options.emitDefaults);
  const client = new grpc.Client(options.address, credentials);
  try {
    const response = await unaryCall(client, `/${serviceName}/${methodName}`,
                                     method.resolvedRequestType, method.resolvedResponseType,
                                     request, metadata);
    process.stdout.write(`${formatter.format(method.resolvedResponseType, response)}\n`);
    return 0;
  } catch (error) {
    if (error.code === undefined) throw error;
    const [detailsBin] = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
    process.stderr.write(await statusText(error.code, error.details, detailsBin,
                                          (name) => reflector.resolveAnyType(name), formatter));
    return STATUS_CODE_OFFSET + error.code;
  } finally {
    client.close();
  }
}

async function main(argv) {
  const options = parseArgs(argv);
  const credentials = options.plaintext ? grpc.credentials.createInsecure()
                                        : grpc.credentials.createSsl();
  const metadata = metadataFrom(options.headers);
  const reflector = new Reflector(options.address, credentials, metadata);

  if (options.verb === 'list') {
    if (options.rest.length === 0) {
      const services = await reflector.listServices().catch((e) => {
        throw new Failure(`Failed to list services: ${e.message}`);
      });
      console.log(services.length ? [...services].sort().join('\n') : '(No services)');
    } else {
      const name = options.rest[0];
      const service = await reflector.findSymbol(name).catch((e) => {
        throw new Failure(`Failed to list methods for service "${name}": ${e.message}`);
      });
      if (service.methods === undefined) {
        throw new Failure(`Failed to list methods for service "${name}": Service not found: ${name}`);
      }
      console.log(service.methodsArray.map((m) => `${name}.${m.name}`).sort().join('\n'));
    }
    return 0;
  }
  if (options.verb === 'describe') {
    const symbols = options.rest.length ? options.rest : [...await reflector.listServices()].sort();
    for (const symbol of symbols) {
      const reflected = await reflector.findSymbol(symbol).catch((e) => {
        throw new Failure(`Failed to resolve symbol "${symbol}": ${e.message}`);
      });
      console.log(describe(reflector, reflected));
    }
    return 0;
  }
  return invoke(options, reflector, credentials, metadata);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exit(code); },
    (error) => {
      if (error instanceof UsageError) {
        console.error(`${error.message}\nTry '${process.argv[1]} -help' for more details.`);
        process.exit(2);
      } else {
        console.error(error instanceof Failure ? error.message : error.stack || error);
        process.exit(1);
      }
    });
}

module.exports = { Formatter, Reflector, STATUS_TYPE, statusText };
