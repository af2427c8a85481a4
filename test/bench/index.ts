/** `npm run bench`: every measured budget, printed as tables. Numbers, never pass/fail. */
import { benchOtp } from './otp';
import { benchVault } from './vault';

console.log(`Crewvault bench — node ${process.versions.node}, ${process.platform}/${process.arch}`);
benchOtp();
await benchVault();
