/** The one version string: package.json's (test/version.test.ts keeps them equal). */
export const VERSION = '0.2.0';
/** What a station reports in its birth message. */
export const SOFTWARE_VERSION = `loa-station/${VERSION}`;
