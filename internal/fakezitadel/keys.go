package fakezitadel

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
)

// keyBits matches the keys ZITADEL issues for service users.
const keyBits = 2048

// NewServiceAccountKey makes a service user key: the JSON key file ZITADEL
// would hand out, and the matching ServiceKey to register with the server.
func NewServiceAccountKey(userID, keyID, instanceID string) (keyFile []byte, registered ServiceKey, err error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, ServiceKey{}, err
	}
	keyFile, err = json.Marshal(map[string]string{
		"type":   "serviceaccount",
		"keyId":  keyID,
		"key":    string(pemPKCS1(priv)),
		"userId": userID,
	})
	if err != nil {
		return nil, ServiceKey{}, err
	}
	return keyFile, ServiceKey{UserID: userID, KeyID: keyID, PublicKey: &priv.PublicKey, InstanceID: instanceID}, nil
}

// NewSystemUserKey makes a system API user's private key (PEM) and the
// public key to register with the server.
func NewSystemUserKey() (privatePEM []byte, public *rsa.PublicKey, err error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, nil, err
	}
	return pemPKCS1(priv), &priv.PublicKey, nil
}

func pemPKCS1(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}
