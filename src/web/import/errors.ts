import { UserError } from '../../errors.js';

/** An uploaded profile that is not what it claims to be: shown on the page as one line. */
export class ProfileFormatError extends UserError {
  constructor(message: string) {
    super(message, 'open a collapsed (a;b;c N), speedscope JSON or pprof (.pb.gz) file');
    this.name = 'ProfileFormatError';
  }
}
