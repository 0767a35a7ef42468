// Every user's API tokens (admin): filter by owner, revoke.
import type { PageProps } from '../routes';
import { TokenManager } from '../tokens';
import { PageHead } from '../widgets';

export default function AdminTokens(_p: PageProps) {
  return (
    <>
      <PageHead
        title="API tokens"
        sub="Every user's API tokens. Revoke a token that leaked or that nothing uses any more. Users create their own tokens on their account page."
      />
      <section class="panel">
        <TokenManager all />
      </section>
    </>
  );
}
