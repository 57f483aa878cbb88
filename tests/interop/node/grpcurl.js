#!/usr/bin/env node
// A stand-in for grpcurl (not installable on Debian 12 or from npm) with the
// subset of its command line that docs/operators.md uses. Like grpcurl it
// knows nothing about magiclink: every descriptor comes from the server's
// reflection service (grpc-js-reflection-client), requests are proto3 JSON and
// responses are printed as proto3 JSON with lowerCamelCase names.
//
//   node grpcurl.js [-plaintext] [-H 'name: value']... [-d JSON|@] [-emit-defaults]
//                   ADDRESS (list [SERVICE] | describe [SYMBOL] | SERVICE/METHOD)
//
// Failed calls print grpcurl's "ERROR: Code/Message/Details" block (details
// decoded through reflection too) and exit with 64 + the status code, as
// grpcurl does. Only unary methods are supported.
'use strict';

const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const { GrpcReflection } = require('grpc-js-reflection-client');

const STATUS_CODE_OFFSET = 64;
const CODE_NAMES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound',
                    'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition',
                    'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss',
                    'Unauthenticated'];

class UsageError extends Error {}

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

// protoc's default JSON name: drop underscores, upper-case the next letter.
function jsonName(fieldName) {
  return fieldName.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

const isMessageType = (t) => t && t.fields !== undefined;
const isEnumType = (t) => t && t.values !== undefined && t.fields === undefined;

function parseDuration(text) {
  const match = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(String(text));
  if (!match) throw new UsageError(`bad Duration "${text}" (want e.g. "3600s")`);
  const sign = match[1] ? -1 : 1;
  return { seconds: String(sign * Number(match[2])),
           nanos: sign * Number((match[3] || '').padEnd(9, '0') || 0) };
}

function parseTimestamp(text) {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(String(text));
  const millis = match ? Date.parse(`${match[1]}${match[3]}`) : NaN;
  if (Number.isNaN(millis)) throw new UsageError(`bad Timestamp "${text}" (want RFC 3339)`);
  return { seconds: String(Math.floor(millis / 1000)),
           nanos: Number((match[2] || '').padEnd(9, '0') || 0) };
}

function formatDuration(value) {
  const seconds = BigInt(value.seconds || 0);
  const nanos = Number(value.nanos || 0);
  if (nanos === 0) return `${seconds}s`;
  const sign = seconds < 0n || nanos < 0 ? '-' : '';
  const abs = (x) => (x < 0 ? -x : x);
  return `${sign}${abs(seconds)}.${String(Math.abs(nanos)).padStart(9, '0').replace(/(000)+$/, '')}s`;
}

function formatTimestamp(value) {
  const date = new Date(Number(value.seconds || 0) * 1000);
  const nanos = Number(value.nanos || 0);
  const fraction = nanos ? `.${String(nanos).padStart(9, '0').replace(/(000)+$/, '')}` : '';
  return date.toISOString().replace(/\.\d{3}Z$/, `${fraction}Z`);
}

// proto3 JSON -> the plain object protobufjs' fromObject takes.
function fromJson(type, json, where) {
  switch (type.fullName) {
    case '.google.protobuf.Duration': return parseDuration(json);
    case '.google.protobuf.Timestamp': return parseTimestamp(json);
    default: break;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new UsageError(`${where}: expected a JSON object for ${type.fullName.slice(1)}`);
  }
  const byName = new Map();
  for (const field of type.fieldsArray) {
    byName.set(field.name, field);
    byName.set(jsonName(field.name), field);
  }
  const object = {};
  for (const [key, value] of Object.entries(json)) {
    const field = byName.get(key);
    if (!field) {
      throw new UsageError(`message type ${type.fullName.slice(1)} has no known field named ${key}`);
    }
    if (value === null) continue;
    field.resolve();
    const convert = (v, path) => {
      if (isMessageType(field.resolvedType)) return fromJson(field.resolvedType, v, path);
      if (isEnumType(field.resolvedType) && typeof v === 'string') {
        if (!(v in field.resolvedType.values)) {
          throw new UsageError(`${path}: unknown ${field.resolvedType.fullName.slice(1)} value ${v}`);
        }
        return field.resolvedType.values[v];
      }
      return v;
    };
    const path = `${where}.${key}`;
    if (field.map) {
      object[field.name] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, convert(v, `${path}[${k}]`)]));
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new UsageError(`${path}: expected a JSON array`);
      object[field.name] = value.map((v, i) => convert(v, `${path}[${i}]`));
    } else {
      object[field.name] = convert(value, path);
    }
  }
  return object;
}

// A protobufjs message -> proto3 JSON (lowerCamelCase names, int64 as strings,
// enums by name, well-known Timestamp/Duration as strings).
function toJson(type, message, emitDefaults) {
  const object = type.toObject(message, { longs: String, enums: String, bytes: String,
                                          defaults: emitDefaults, arrays: emitDefaults,
                                          objects: emitDefaults });
  return plainToJson(type, object);
}

function plainToJson(type, object) {
  switch (type.fullName) {
    case '.google.protobuf.Duration': return formatDuration(object);
    case '.google.protobuf.Timestamp': return formatTimestamp(object);
    default: break;
  }
  const json = {};
  for (const field of type.fieldsArray) {
    if (!(field.name in object)) continue;
    field.resolve();
    const convert = (v) => (isMessageType(field.resolvedType) ? plainToJson(field.resolvedType, v) : v);
    const value = object[field.name];
    if (value === null) {
      json[jsonName(field.name)] = null;  // an unset message field under -emit-defaults
    } else if (field.map) {
      json[jsonName(field.name)] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, convert(v)]));
    } else if (field.repeated) {
      json[jsonName(field.name)] = value.map(convert);
    } else {
      json[jsonName(field.name)] = convert(value);
    }
  }
  return json;
}

class Reflector {
  constructor(address, credentials, metadata) {
    this.client = new GrpcReflection(address, credentials);
    this.metadata = metadata;
  }

  async root(symbol) {
    const descriptor = await this.client.getDescriptorBySymbol(symbol, this.metadata);
    const root = descriptor.getProtobufJsRoot();
    root.resolveAll();
    return root;
  }

  async lookupType(fullName) {
    return (await this.root(fullName)).lookupType(fullName);
  }
}

function commentLines(reflected, indent) {
  if (!reflected.comment) return [];
  return reflected.comment.split('\n').map((line) => `${indent}// ${line}`.trimEnd());
}

function describe(root, symbol) {
  const reflected = root.lookup(symbol);
  if (!reflected) throw new UsageError(`symbol not found: ${symbol}`);
  const name = reflected.fullName.slice(1);
  const lines = [];
  if (reflected.methods !== undefined) {
    lines.push(`${name} is a service:`, ...commentLines(reflected, ''), `service ${reflected.name} {`);
    for (const method of reflected.methodsArray) {
      method.resolve();
      lines.push(...commentLines(method, '  '),
                 `  rpc ${method.name} ( ${method.resolvedRequestType.fullName} ) ` +
                 `returns ( ${method.resolvedResponseType.fullName} );`);
    }
    lines.push('}');
  } else if (reflected.requestType !== undefined) {
    reflected.resolve();
    lines.push(`${name} is a method:`, ...commentLines(reflected, ''),
               `rpc ${reflected.name} ( ${reflected.resolvedRequestType.fullName} ) ` +
               `returns ( ${reflected.resolvedResponseType.fullName} );`);
  } else if (isMessageType(reflected)) {
    lines.push(`${name} is a message:`, ...commentLines(reflected, ''), `message ${reflected.name} {`);
    for (const field of reflected.fieldsArray) {
      field.resolve();
      const typeName = field.resolvedType ? field.resolvedType.fullName : field.type;
      const label = field.map ? `map<${field.keyType}, ${typeName}>`
                              : `${field.repeated ? 'repeated ' : ''}${typeName}`;
      lines.push(...commentLines(field, '  '), `  ${label} ${field.name} = ${field.id};`);
    }
    lines.push('}');
  } else if (isEnumType(reflected)) {
    lines.push(`${name} is an enum:`, ...commentLines(reflected, ''), `enum ${reflected.name} {`);
    for (const [valueName, number] of Object.entries(reflected.values)) {
      lines.push(`  ${valueName} = ${number};`);
    }
    lines.push('}');
  } else {
    throw new UsageError(`cannot describe ${symbol}`);
  }
  return lines.join('\n');
}

function unaryCall(client, path, requestType, responseType, request, metadata) {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path,
      (object) => Buffer.from(requestType.encode(requestType.fromObject(object)).finish()),
      (bytes) => responseType.decode(bytes),
      request, metadata, { deadline: Date.now() + 30000 },
      (error, response) => (error ? reject(error) : resolve(response)));
  });
}

async function printError(reflector, error) {
  const lines = ['ERROR:', `  Code: ${CODE_NAMES[error.code] || error.code}`,
                 `  Message: ${error.details}`];
  const [details] = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (details) {
    const statusType = await reflector.lookupType('google.rpc.Status');
    const status = statusType.decode(details);
    if (status.details.length) lines.push('  Details:');
    let n = 0;
    for (const any of status.details) {
      const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
      let body;
      try {
        const detailType = await reflector.lookupType(typeName);
        body = { '@type': any.type_url, ...toJson(detailType, detailType.decode(any.value), false) };
      } catch (e) {
        body = { '@type': any.type_url, value: Buffer.from(any.value).toString('base64') };
      }
      const text = JSON.stringify(body, null, 2).split('\n').join('\n    \t');
      lines.push(`  ${++n})\t${text}`);
    }
  }
  console.error(lines.join('\n'));
}

async function main(argv) {
  const options = parseArgs(argv);
  const credentials = options.plaintext ? grpc.credentials.createInsecure()
                                        : grpc.credentials.createSsl();
  const metadata = metadataFrom(options.headers);
  const reflector = new Reflector(options.address, credentials, metadata);

  if (options.verb === 'list') {
    if (options.rest.length === 0) {
      const services = await reflector.client.listServices('*', metadata);
      console.log([...services].sort().join('\n'));
    } else {
      const service = (await reflector.root(options.rest[0])).lookupService(options.rest[0]);
      console.log(service.methodsArray.map((m) => `${options.rest[0]}.${m.name}`).join('\n'));
    }
    return 0;
  }
  if (options.verb === 'describe') {
    const symbols = options.rest.length
      ? options.rest
      : (await reflector.client.listServices('*', metadata)).sort();
    for (const symbol of symbols) console.log(describe(await reflector.root(symbol), symbol));
    return 0;
  }

  const slash = options.verb.lastIndexOf('/');
  const dot = options.verb.lastIndexOf('.');
  const split = slash >= 0 ? slash : dot;
  if (split <= 0) throw new UsageError(`"${options.verb}" is not list, describe or SERVICE/METHOD`);
  const serviceName = options.verb.slice(0, split);
  const methodName = options.verb.slice(split + 1);
  const service = (await reflector.root(serviceName)).lookupService(serviceName);
  const method = service.methods[methodName];
  if (!method) throw new UsageError(`service ${serviceName} has no method ${methodName}`);
  if (method.requestStream || method.responseStream) throw new UsageError('only unary methods');
  method.resolve();
  const data = options.data === '@' ? fs.readFileSync(0, 'utf8') : (options.data || '{}');
  let json;
  try {
    json = JSON.parse(data);
  } catch (e) {
    throw new UsageError(`request is not valid JSON: ${e.message}`);
  }
  const request = fromJson(method.resolvedRequestType, json, 'request');

  const client = new grpc.Client(options.address, credentials);
  try {
    const response = await unaryCall(client, `/${serviceName}/${methodName}`,
                                     method.resolvedRequestType, method.resolvedResponseType,
                                     request, metadata);
    console.log(JSON.stringify(toJson(method.resolvedResponseType, response, options.emitDefaults),
                               null, 2));
    return 0;
  } catch (error) {
    if (error.code === undefined) throw error;
    await printError(reflector, error);
    return STATUS_CODE_OFFSET + error.code;
  } finally {
    client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exit(code); },
  (error) => {
    console.error(`Failed: ${error instanceof UsageError ? error.message : error.stack || error}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  });
