import { IsBoolean, IsString, MaxLength, ValidateIf } from 'class-validator';

/** Present, or absent; `null` is a wrong type. */
const Given = () => ValidateIf((_, value) => value !== undefined);

/** Body of `PATCH .../users/:connectionId`; at least one field (checked by the service). */
export class UpdateUserDto {
  @Given()
  @IsBoolean()
  isForwarding?: boolean;

  @Given()
  @IsString()
  @MaxLength(320)
  appEmail?: string;

  @Given()
  @IsBoolean()
  blocked?: boolean;
}
