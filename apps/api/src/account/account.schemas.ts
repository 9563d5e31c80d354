import { ApiProperty } from '@nestjs/swagger';

/** Response bodies of the account JSON API, as /openapi.json describes them. */

export class AccountSummary {
  @ApiProperty({ pattern: '^[A-Z]{2}[0-9]{4}$', example: 'AB1234' })
  globalId: string;
  @ApiProperty({ example: 'John Doe' })
  name: string;
  @ApiProperty({ example: 'john@example.com' })
  email: string;
}

export class AccountProfile extends AccountSummary {
  @ApiProperty({ type: String, nullable: true, description: 'An absolute URL, or null.' })
  image: string | null;
  @ApiProperty({ example: 'Germany' })
  region: string;
}

export class AccountSession {
  @ApiProperty({ description: 'Names the session for DELETE /api/account/sessions/:sessionId (never the cookie value).', pattern: '^[0-9a-f]{64}$' })
  id: string;
  @ApiProperty({ description: 'True for the session that made this request.' })
  current: boolean;
  @ApiProperty({ example: 'Firefox 130' })
  browser: string;
  @ApiProperty({ example: 'Linux' })
  os: string;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' })
  ip: string | null;
  @ApiProperty({ format: 'date-time' })
  createdAt: string;
  @ApiProperty({ format: 'date-time' })
  lastActiveAt: string;
}

export class AccountSessionList {
  @ApiProperty({ type: [AccountSession] })
  sessions: AccountSession[];
}
