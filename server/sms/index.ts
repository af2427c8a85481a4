/** The SMS adapters by the service name the settings carry (SMS_SERVICES in the server contract). */
import type { SMS_SERVICES } from '../../shared/api/server-contract';
import { clickSend } from './clicksend';
import type { SmsAdapter } from './provider';
import { textMagic } from './textmagic';

export type SmsService = (typeof SMS_SERVICES)[number];

export const SMS_ADAPTERS: Readonly<Record<SmsService, SmsAdapter>> = { clicksend: clickSend, textmagic: textMagic };
