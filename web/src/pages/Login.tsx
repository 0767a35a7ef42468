// Placeholder: the page is being built.
import type { PageProps } from '../routes';
import { PageHead } from '../widgets';

export default function Login(_p: PageProps) {
  return <PageHead title="Log in" />;
}
