import bcrypt from 'bcryptjs';

/**
 * Runs in a worker thread (password-hasher.ts): bcrypt is ~50 ms of CPU per check at cost 10, and
 * done on the main thread even in bcryptjs's async mode it holds the event loop in slices of up to
 * 100 ms, delaying every live alert the console pushes meanwhile. Synchronous here: the thread has
 * nothing else to do.
 */
export type PasswordTask =
  { op: 'compare'; password: string; hash: string } | { op: 'hash'; password: string; cost: number };

export default function run(task: PasswordTask): boolean | string {
  return task.op === 'compare'
    ? bcrypt.compareSync(task.password, task.hash)
    : bcrypt.hashSync(task.password, task.cost);
}
