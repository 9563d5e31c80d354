/** A page that needs a session was asked for without one: `location` is the login page to go to. */
export class SignInRequired extends Error {
  constructor(readonly location: string) {
    super('sign in required');
  }
}
