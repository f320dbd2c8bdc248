// The admin panel is not built or served: Charter's tests use the REST APIs only.
module.exports = () => ({
  serveAdminPanel: false,
  autoOpen: false,
  auth: { secret: 'charter-test-admin-jwt-secret' },
  apiToken: { salt: 'charter-test-api-token-salt' },
  transfer: { token: { salt: 'charter-test-transfer-salt' } },
  secrets: { encryptionKey: 'charter-test-encryption-key' },
});
