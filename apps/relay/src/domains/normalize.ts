// Domain names as users type them, turned into the A-label the relay stores, or rejected.
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { parse as parseHostname } from 'tldts';
import { ApiError } from '../errors.ts';

const require = createRequire(import.meta.url);

/** Every code `normalizeDomain` rejects with, each a 400. */
export const DOMAIN_ERROR_CODES = [
  'invalid_domain',
  'ip_address_not_allowed',
  'wildcard_not_allowed',
  'single_label_not_allowed',
  'label_too_long',
  'domain_too_long',
  'public_suffix_not_allowed',
  'email_provider_not_allowed',
] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export interface NormalizedDomain {
  /** The IDNA A-label, lower case, without a trailing dot: what is stored and compared. */
  domain: string;
  /** The same name in Unicode, for display. */
  domain_unicode: string;
}

const MAX_LABEL_OCTETS = 63;
const MAX_NAME_OCTETS = 253;
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function reject(code: DomainErrorCode, message: string): never {
  throw new ApiError(400, code, message, { fields: [{ path: 'domain', message }] });
}

let emailProviders: { exact: Set<string>; wildcards: Set<string> } | undefined;

function toAscii(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) ? name.toLowerCase() : domainToASCII(name.toLowerCase());
}

function loadEmailProviders(): { exact: Set<string>; wildcards: Set<string> } {
  if (emailProviders) return emailProviders;
  const free = require('free-email-domains') as string[];
  const disposable = require('disposable-email-domains') as string[];
  const wildcards = require('disposable-email-domains/wildcard.json') as string[];
  emailProviders = {
    exact: new Set([...free, ...disposable].map(toAscii).filter(Boolean)),
    wildcards: new Set(wildcards.map(toAscii).filter(Boolean)),
  };
  return emailProviders;
}

// The name and each parent up to its registrable domain: x.gmail.com is as public as gmail.com.
function isEmailProvider(domain: string, registrable: string): boolean {
  const { exact, wildcards } = loadEmailProviders();
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const candidate = labels.slice(i).join('.');
    if (exact.has(candidate) || wildcards.has(candidate)) return true;
    if (candidate === registrable) break;
  }
  return false;
}

function checkShape(text: string): void {
  if (text === '') reject('invalid_domain', 'The domain is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    reject('invalid_domain', 'Give the bare domain name, without a scheme such as https://');
  }
  if (/[/?#@\\]/.test(text)) {
    reject('invalid_domain', 'Give the bare domain name, without a path, query or user');
  }
  if (text.startsWith('[') || isIP(text) !== 0) {
    reject('ip_address_not_allowed', 'IP addresses are not domain names');
  }
  if (text.includes(':')) reject('invalid_domain', 'Give the domain name without a port');
  if (text.includes('*')) reject('wildcard_not_allowed', 'Wildcard domains are not allowed');
  if (/\s/.test(text)) reject('invalid_domain', 'A domain name cannot contain white space');
}

function checkLabels(domain: string): void {
  const labels = domain.split('.');
  if (labels.length < 2) {
    reject('single_label_not_allowed', 'Give a full domain name such as acmecorp.com');
  }
  if (labels.some((label) => label.length > MAX_LABEL_OCTETS)) {
    reject('label_too_long', `Each label of a domain name is at most ${MAX_LABEL_OCTETS} octets`);
  }
  if (domain.length > MAX_NAME_OCTETS) {
    reject('domain_too_long', `A domain name is at most ${MAX_NAME_OCTETS} octets`);
  }
  if (!labels.every((label) => LDH_LABEL.test(label))) {
    reject('invalid_domain', 'Labels hold letters, digits and inner hyphens, separated by dots');
  }
}

/**
 * Normalizes a domain name (trim, one trailing dot, lower case, IDNA A-label) and rejects what
 * cannot be an organization's domain, with an `ApiError` 400 whose code names the reason.
 */
export function normalizeDomain(input: string): NormalizedDomain {
  const trimmed = input.trim();
  const text = (trimmed.endsWith('.') ? trimmed.slice(0, -1) : trimmed).toLowerCase();
  checkShape(text);

  const domain = domainToASCII(text);
  if (domain === '') reject('invalid_domain', `"${text}" is not a valid domain name`);
  if (isIP(domain) !== 0) reject('ip_address_not_allowed', 'IP addresses are not domain names');
  checkLabels(domain);

  const registrable = parseHostname(domain, { allowPrivateDomains: true }).domain;
  if (registrable === null) {
    reject(
      'public_suffix_not_allowed',
      `${domain} is a public suffix, which no one organization owns`,
    );
  }
  if (isEmailProvider(domain, registrable)) {
    reject('email_provider_not_allowed', `${domain} is a public or disposable email provider`);
  }
  return { domain, domain_unicode: domainToUnicode(domain) };
}
