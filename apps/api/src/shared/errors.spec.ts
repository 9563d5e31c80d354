import { isInfrastructureOutage, toAppError } from './errors';

/** An ioredis MULTI refused as a whole: the EXECABORT error with the errors of its commands. */
function execAbort(previous: Error[]): Error & { previousErrors: Error[] } {
  const error = Object.assign(new Error('EXECABORT Transaction discarded because of previous errors.'), { previousErrors: previous });
  return error;
}

describe('isInfrastructureOutage', () => {
  it('is an outage when every command of an aborted MULTI met a demoted or unavailable node', () => {
    expect(isInfrastructureOutage(execAbort([new Error("READONLY You can't write against a read only replica."), new Error('Connection is closed.')]))).toBe(true);
    expect(toAppError(execAbort([new Error('LOADING Redis is loading the dataset in memory')])).appError.code).toBe('temporarily_unavailable');
  });

  it('is not one when a command failed for another reason', () => {
    expect(isInfrastructureOutage(execAbort([new Error('READONLY replica'), new Error('WRONGTYPE Operation against a key holding the wrong kind of value')]))).toBe(false);
  });

  it('ends on an error that lists itself (or a cycle) among its previous errors', () => {
    const self = execAbort([new Error('READONLY replica')]);
    self.previousErrors.push(self);
    expect(isInfrastructureOutage(self)).toBe(true);
    const a = execAbort([]);
    const b = execAbort([a]);
    a.previousErrors.push(b);
    expect(isInfrastructureOutage(a)).toBe(false);
    expect(toAppError(a).appError.code).toBe('server_error');
  });
});
