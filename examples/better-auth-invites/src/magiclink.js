// A promise-based magiclink client over @grpc/grpc-js, loading the project's
// proto at run time (no generated code), and the decoding of magiclink's
// errors: every failure carries one google.rpc.ErrorInfo whose reason
// (TOKEN_ALREADY_USED, TOKEN_EXPIRED, ...) is what callers branch on.
//
//   const magiclink = connectMagiclink({ address: '127.0.0.1:50051', apiKey });
//   const claims = await magiclink.verify({ token, mode: 'PEEK' });
//   try { ... } catch (e) { if (errorReason(e) === 'TOKEN_ALREADY_USED') ... }
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

// proto/ of the magiclink repository, two folders above this example.
const DEFAULT_PROTO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto');
const ERROR_DOMAIN = 'magiclink.v1';
const DEFAULT_DEADLINE_MS = 5000;

// google.rpc.Status and google.rpc.ErrorInfo, the two messages needed to read
// grpc-status-details-bin, declared inline so the example needs no googleapis
// checkout.
const rpcTypes = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: 'string', id: 1 },
                                                value: { type: 'bytes', id: 2 } } } } },
        rpc: {
          nested: {
            Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 },
                                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 } } },
            ErrorInfo: { fields: { reason: { type: 'string', id: 1 }, domain: { type: 'string', id: 2 },
                                   metadata: { keyType: 'string', type: 'string', id: 3 } } },
          },
        },
      },
    },
  },
});
const StatusType = rpcTypes.lookupType('google.rpc.Status');
const ErrorInfoType = rpcTypes.lookupType('google.rpc.ErrorInfo');

// The ErrorInfo reason of a failed call ("TOKEN_EXPIRED", ...), or
// "UNAVAILABLE"-style gRPC code names for failures that carry none (the
// server unreachable, a deadline).
export function errorReason(error) {
  const [details] = error?.metadata?.get?.('grpc-status-details-bin') ?? [];
  if (details) {
    const status = StatusType.decode(details);
    for (const any of status.details) {
      if (any.type_url === 'type.googleapis.com/google.rpc.ErrorInfo') {
        const info = ErrorInfoType.decode(any.value);
        if (info.domain === ERROR_DOMAIN) return info.reason;
      }
    }
  }
  return grpc.status[error?.code] ?? 'UNKNOWN';
}

// Connects to magiclinkd. `apiKey` is sent as "authorization: Bearer <key>";
// `protoDir` defaults to the repository's proto/ (MAGICLINK_PROTO_DIR).
export function connectMagiclink({ address, apiKey, protoDir, credentials, deadlineMs } = {}) {
  const definition = protoLoader.loadSync('magiclink/v1/magic_link_service.proto', {
    includeDirs: [protoDir || process.env.MAGICLINK_PROTO_DIR || DEFAULT_PROTO_DIR],
    keepCase: true, longs: String, enums: String, defaults: true,
  });
  const { magiclink } = grpc.loadPackageDefinition(definition);
  const client = new magiclink.v1.MagicLinkService(
    address, credentials || grpc.credentials.createInsecure());
  const call = (method, request) => new Promise((resolve, reject) => {
    const metadata = new grpc.Metadata();
    if (apiKey) metadata.set('authorization', `Bearer ${apiKey}`);
    client[method](request, metadata, { deadline: Date.now() + (deadlineMs || DEFAULT_DEADLINE_MS) },
      (error, response) => (error ? reject(error) : resolve(response)));
  });
  return {
    issueBatch: (request) => call('IssueBatch', request),
    verify: (request) => call('Verify', request),
    revoke: (request) => call('Revoke', request),
    getBatch: (request) => call('GetBatch', request),
    listLinks: (request) => call('ListLinks', request),
    close: () => client.close(),
  };
}
