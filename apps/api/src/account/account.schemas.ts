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
