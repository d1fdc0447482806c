import { TimeoutError } from '@platformatic/kafka';

/**
 * Settles like `attempt`, or rejects with a retriable-looking TimeoutError once `deadline` has passed. The
 * client retries internally, nesting retries (ApiVersions inside Metadata inside Fetch), so a single attempt
 * against a black-holed broker can take (retries + 1)^2 request timeouts: minutes, whatever --retry-deadline
 * says. The abandoned attempt settles later on its own; its result is ignored.
 */
export function withinDeadline<T>(attempt: Promise<T>, deadline: number): Promise<T> {
  attempt.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        reject(new TimeoutError('no response from the cluster within the retry deadline'));
      },
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([attempt, expired]).finally(() => {
    clearTimeout(timer);
  });
}
