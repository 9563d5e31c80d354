import { Get, HttpCode, Post } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsBoolean, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, Length, MaxLength, ValidateIf } from 'class-validator';
import { ApiEndpoint, dtoSchema } from './openapi';

class Sample {
  @IsString()
  @Length(2, 10)
  name: string;

  @IsOptional()
  @IsString()
  @MaxLength(50)
  @IsEmail()
  email?: string | null;

  @ValidateIf((_, v) => v !== undefined)
  @IsBoolean()
  flag?: boolean;

  @IsArray()
  @ArrayMaxSize(3)
  @IsString({ each: true })
  @MaxLength(20, { each: true })
  tags: string[];

  @IsString()
  @IsNotEmpty()
  @IsIn(['a', 'b'])
  kind: string;
}

describe('dtoSchema: a request schema from the class-validator rules', () => {
  it('reads types, limits, required and nullable fields as the ValidationPipe applies them', () => {
    expect(dtoSchema(Sample)).toEqual({
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 2, maxLength: 10 },
        // IsOptional: absent or null skip validation.
        email: { type: 'string', maxLength: 50, format: 'email', nullable: true },
        // ValidateIf(present): absent is fine, null is validated (and refused).
        flag: { type: 'boolean' },
        tags: { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 20 } },
        kind: { type: 'string', minLength: 1, enum: ['a', 'b'] },
      },
      required: ['name', 'tags', 'kind'],
    });
  });
});

describe('@ApiEndpoint', () => {
  type Responses = Record<string, { description?: string; schema?: unknown }>;
  // @nestjs/swagger's metadata key of @ApiResponse (its constants are not exported).
  const responses = (handler: object) => Reflect.getMetadata('swagger/apiResponse', handler) as Responses;

  it('reads the status from @HttpCode and adds the error answers of its auth and body', () => {
    class Controller {
      @ApiEndpoint({ summary: 'x', auth: 'developer', body: Sample, response: null, errors: ['conflict'] })
      @Post('x')
      @HttpCode(204)
      write() {}

      @ApiEndpoint({ summary: 'y', auth: 'bearer', response: { type: 'string' } })
      @Get('y')
      read() {}
    }
    const write = responses(Reflect.get(Controller.prototype, 'write'));
    const read = responses(Reflect.get(Controller.prototype, 'read'));
    expect(Object.keys(write).sort()).toEqual(['204', '400', '401', '403', '409', '413', '415', 'default']);
    expect(write['401'].description).toBe('unauthorized');
    expect(write['403'].description).toBe('forbidden');
    expect(Object.keys(read).sort()).toEqual(['200', '401', 'default']);
    expect(read['401'].description).toBe('invalid_token, invalid_dpop_proof');
  });

  it('must sit above the route decorator', () => {
    expect(() => {
      class Misplaced {
        @Get('z')
        @ApiEndpoint({ summary: 'z', response: null })
        handler() {}
      }
      return Misplaced;
    }).toThrow(/must sit above the route decorator/);
  });

  it('refuses two request DTOs of one name', () => {
    const make = () => {
      class Sample {
        @IsString()
        other: string;
      }
      return Sample;
    };
    expect(() => {
      class Clash {
        @ApiEndpoint({ summary: 'a', body: Sample, response: null })
        @Post('a')
        a() {}

        @ApiEndpoint({ summary: 'b', body: make(), response: null })
        @Post('b')
        b() {}
      }
      return Clash;
    }).toThrow(/Two request DTOs are named Sample/);
  });
});
