import { Initial1764270000000 } from './1764270000000-Initial';
import { UserManagementAndWebhooks1764280000000 } from './1764280000000-UserManagementAndWebhooks';
import { OpenIdConnect1764290000000 } from './1764290000000-OpenIdConnect';
import { UserListIndexes1764300000000 } from './1764300000000-UserListIndexes';
import { EmailVerifications1764310000000 } from './1764310000000-EmailVerifications';
import { EmailRelay1764320000000 } from './1764320000000-EmailRelay';
import { AuthzVersion1764330000000 } from './1764330000000-AuthzVersion';
import { EmailConfirmedAt1764340000000 } from './1764340000000-EmailConfirmedAt';
import { EmailBinaryCollation1764356000000 } from './1764356000000-EmailBinaryCollation';
import { UserEmailsLinked1764360000000 } from './1764360000000-UserEmailsLinked';
import { DeveloperApiKeys1764361000000 } from './1764361000000-DeveloperApiKeys';
import { TwoStepAndPasskeys1764364000000 } from './1764364000000-TwoStepAndPasskeys';
import { RelayBodies1764365000000 } from './1764365000000-RelayBodies';
import { ClientTypes1764370000000 } from './1764370000000-ClientTypes';
import { PushedAuthorizationRequests1764371000000 } from './1764371000000-PushedAuthorizationRequests';
import { TokenSigningAndDpop1764372000000 } from './1764372000000-TokenSigningAndDpop';
import { AppEmailRequests1764373000000 } from './1764373000000-AppEmailRequests';
import { DropAuthzVersion1764375000000 } from './1764375000000-DropAuthzVersion';
import { PartitionedGlobalIdSequence1764375100000 } from './1764375100000-PartitionedGlobalIdSequence';
import { UserCountSlots1764375200000 } from './1764375200000-UserCountSlots';
import { ReplyAliasLastUse1764376000000 } from './1764376000000-ReplyAliasLastUse';
import { SessionCountBatches1764377100000 } from './1764377100000-SessionCountBatches';

/** Every migration, in order. New ones are appended here. */
export const MIGRATIONS = [
  Initial1764270000000,
  UserManagementAndWebhooks1764280000000,
  OpenIdConnect1764290000000,
  UserListIndexes1764300000000,
  EmailVerifications1764310000000,
  EmailRelay1764320000000,
  AuthzVersion1764330000000,
  EmailConfirmedAt1764340000000,
  EmailBinaryCollation1764356000000,
  UserEmailsLinked1764360000000,
  DeveloperApiKeys1764361000000,
  TwoStepAndPasskeys1764364000000,
  RelayBodies1764365000000,
  ClientTypes1764370000000,
  PushedAuthorizationRequests1764371000000,
  TokenSigningAndDpop1764372000000,
  AppEmailRequests1764373000000,
  DropAuthzVersion1764375000000,
  PartitionedGlobalIdSequence1764375100000,
  UserCountSlots1764375200000,
  ReplyAliasLastUse1764376000000,
  SessionCountBatches1764377100000,
];
