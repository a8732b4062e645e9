import { useState } from 'preact/hooks';
import { basicAuthorization } from './api.js';

// The operator credential, asked for when the master answers 401: principal and secret (HTTP
// Basic, as `stratus dev --authenticate` prints them) or a bearer token.

export function Login(props: { refusal?: string; onSubmit: (authorization: string) => void }) {
  const [principal, setPrincipal] = useState('');
  const [secret, setSecret] = useState('');
  const [token, setToken] = useState('');
  const [useToken, setUseToken] = useState(false);
  const submit = (e: Event): void => {
    e.preventDefault();
    if (useToken ? token === '' : principal === '') return;
    props.onSubmit(useToken ? `Bearer ${token}` : basicAuthorization(principal, secret));
  };
  return (
    <form class="login card" onSubmit={submit}>
      <h1>Operator sign-in</h1>
      <p class="dim">This region authenticates. Enter an operator credential; it is kept for this tab only.</p>
      {props.refusal && (
        <p class="refusal" role="alert">
          {props.refusal}
        </p>
      )}
      {useToken ? (
        <label>
          Token
          <input name="token" type="password" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        </label>
      ) : (
        <>
          <label>
            Principal
            <input name="principal" autocomplete="username" value={principal} onInput={(e) => setPrincipal(e.currentTarget.value)} />
          </label>
          <label>
            Secret
            <input name="secret" type="password" autocomplete="current-password" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} />
          </label>
        </>
      )}
      <button type="submit" class="primary">Sign in</button>
      <button type="button" class="link" onClick={() => setUseToken(!useToken)}>
        {useToken ? 'use principal and secret' : 'use a bearer token'}
      </button>
    </form>
  );
}
