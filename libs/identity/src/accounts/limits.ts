/** Field limits of accounts (match the `users` / `user_emails` columns). */
export const LIMITS = {
  nameMax: 200,
  emailMax: 320,
  passwordMin: 8,
  passwordMax: 128,
  regionMax: 100,
} as const;
