import {
  createAPI,
  UnsupportedApiError,
  type API,
  type Callback,
  type RequestCreator,
  type ResponseParser,
} from '@platformatic/kafka';

type AnyApi = API<unknown[], unknown>;

/**
 * The client looks up each protocol API through `[kGetApi](name, callback)`, which picks the newest version
 * both sides support. kbackup's Consumer and Producer subclasses override it to answer one API with their
 * own implementation of that same version (`replacementFor`), and every other API unchanged. A version
 * without a replacement is refused with `unsupported`'s message rather than silently using the client's.
 */
export function answerWithReplacement<R extends unknown[], T>(
  name: string,
  replaced: string,
  negotiate: (callback: Callback<API<R, T>>) => void,
  callback: Callback<API<R, T>>,
  replacementFor: (version: number) => AnyApi | undefined,
  unsupported: (version: number) => string,
): void {
  if (name !== replaced) {
    negotiate(callback);
    return;
  }
  negotiate((error, api) => {
    if (error || !api) {
      callback(error ?? new UnsupportedApiError(`No usable ${name} API version.`));
      return;
    }
    const replacement = replacementFor(api.version);
    if (replacement) callback(null, replacement as unknown as API<R, T>);
    else callback(new UnsupportedApiError(unsupported(api.version)));
  });
}

/**
 * The API `key` of each version that has both a request writer and a response parser here, built once per
 * version on first use.
 */
export function replacementApis(
  key: number,
  requestFor: (version: number) => RequestCreator | undefined,
  parserFor: (version: number) => ResponseParser<unknown> | undefined,
): (version: number) => AnyApi | undefined {
  const built = new Map<number, AnyApi>();
  return (version) => {
    let api = built.get(version);
    const createRequest = requestFor(version);
    const parseResponse = parserFor(version);
    if (!api && createRequest && parseResponse) {
      api = createAPI<unknown[], unknown>(key, version, createRequest, parseResponse);
      built.set(version, api);
    }
    return api;
  };
}
