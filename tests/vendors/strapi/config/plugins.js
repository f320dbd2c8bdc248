module.exports = () => ({
  'users-permissions': { config: { jwtSecret: 'charter-test-users-jwt-secret' } },
});
