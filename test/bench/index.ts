/** `npm run bench`: every measured budget, printed as tables. Numbers, never pass/fail. */
import { benchOtp } from './otp';

console.log(`Crewvault bench — node ${process.versions.node}, ${process.platform}/${process.arch}`);
benchOtp();
